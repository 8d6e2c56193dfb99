// The traceroute state machine: slots per hop, timeouts, MTU re-sends, the end of a trace.
#include "diag/trace_machine.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace postern::diag {

core::Result<void> check_options(const TraceOptions& o) {
  using core::Errc;
  if (o.first_ttl < 1 || o.first_ttl > 255) return core::make_error(Errc::invalid, "first-ttl");
  if (o.max_hops < o.first_ttl || o.max_hops > 255)
    return core::make_error(Errc::invalid, "max-hops");
  if (o.probes < 1 || o.probes > 100) return core::make_error(Errc::invalid, "probes");
  if (o.probe_timeout_us < 1'000 || o.probe_timeout_us > 60'000'000) {
    return core::make_error(Errc::invalid, "probe-timeout");
  }
  if (o.probe_interval_us < 0 || o.probe_interval_us > 10'000'000) {
    return core::make_error(Errc::invalid, "probe-interval");
  }
  if (o.initial_mtu < kMinMtuIpv4 || o.initial_mtu > 65535)
    return core::make_error(Errc::invalid, "mtu");
  return {};
}

TraceMachine::TraceMachine(const TraceOptions& options, Family family)
    : options_(options),
      family_(family),
      path_mtu_(std::max(options.initial_mtu, min_mtu(family))) {
  start_hop(options_.first_ttl);
}

void TraceMachine::start_hop(int ttl) {
  ttl_ = ttl;
  slots_.assign(static_cast<std::size_t>(options_.probes), Slot{});
  hop_destination_ = false;
  hop_unreachable_ = false;
}

std::optional<ProbeRequest> TraceMachine::next_probe(Micros now) {
  if (done_) return std::nullopt;
  if (last_send_ && now < *last_send_ + options_.probe_interval_us) return std::nullopt;
  auto slot = std::find_if(slots_.begin(), slots_.end(),
                           [](const Slot& s) { return s.state == SlotState::waiting; });
  if (slot == slots_.end()) return std::nullopt;
  slot->state = SlotState::in_flight;
  slot->id = next_id_++;
  slot->port = static_cast<std::uint16_t>(options_.base_port + slot->id % 4096);
  slot->packet_bytes = path_mtu_;
  slot->sent_at = now;
  slot->deadline = now + options_.probe_timeout_us;
  last_send_ = now;
  const int payload = std::max(0, path_mtu_ - ip_header_bytes(family_) - kUdpHeaderBytes);
  return ProbeRequest{slot->id, ttl_, slot->port, path_mtu_, payload};
}

void TraceMachine::on_send_failed(std::uint32_t id, int err, Micros) {
  if (done_) return;
  auto slot = std::find_if(slots_.begin(), slots_.end(), [&](const Slot& s) {
    return s.state == SlotState::in_flight && s.id == id;
  });
  if (slot == slots_.end()) return;  // already re-queued by an error-queue entry
  if (err == EMSGSIZE && slot->packet_bytes > min_mtu(family_)) {
    lower_mtu(next_plateau(slot->packet_bytes, family_));
    return;
  }
  if (err == ENETUNREACH || err == EPERM || err == EACCES) {
    finish(TraceOutcome::failed, std::string("send-") + std::strerror(err));
    return;
  }
  slot->state = SlotState::lost;
  finish_hop_if_complete();
}

TraceMachine::Slot* TraceMachine::in_flight_by_port(std::uint16_t port) {
  for (auto& s : slots_) {
    if (s.state == SlotState::in_flight && s.port == port) return &s;
  }
  return nullptr;
}

void TraceMachine::lower_mtu(int mtu) {
  path_mtu_ = std::min(path_mtu_, std::max(mtu, min_mtu(family_)));
  // Every probe in flight that is larger was (or will be) dropped: send it again, smaller.
  for (auto& s : slots_) {
    if (s.state == SlotState::in_flight && s.packet_bytes > path_mtu_) s.state = SlotState::waiting;
  }
  last_send_.reset();  // the re-send is due at once
}

void TraceMachine::on_reply(const ProbeReply& reply) {
  if (done_) return;
  Slot* slot = reply.port != 0 ? in_flight_by_port(reply.port) : nullptr;
  if (reply.kind == ReplyKind::mtu) {
    const int size = slot ? slot->packet_bytes : path_mtu_;
    if (size <= min_mtu(family_)) {
      if (slot) slot->state = SlotState::lost;  // cannot go smaller: count it lost
    } else if (reply.mtu >= min_mtu(family_) && reply.mtu < size) {
      lower_mtu(reply.mtu);
    } else {
      lower_mtu(next_plateau(size, family_));  // RFC 1191 §5: no MTU given, guess a plateau
    }
    finish_hop_if_complete();
    return;
  }
  if (slot == nullptr || reply.kind == ReplyKind::other) return;  // late, foreign or noise
  slot->state = SlotState::answered;
  slot->rtt = reply.at - slot->sent_at;
  slot->from = reply.from;
  if (reply.kind == ReplyKind::destination) hop_destination_ = true;
  if (reply.kind == ReplyKind::unreachable) hop_unreachable_ = true;
  finish_hop_if_complete();
}

void TraceMachine::on_tick(Micros now) {
  if (done_) return;
  for (auto& s : slots_) {
    if (s.state == SlotState::in_flight && s.deadline <= now) s.state = SlotState::lost;
  }
  finish_hop_if_complete();
}

std::optional<Micros> TraceMachine::next_wakeup() const {
  if (done_) return std::nullopt;
  std::optional<Micros> next;
  auto consider = [&](Micros t) { next = next ? std::min(*next, t) : t; };
  for (const auto& s : slots_) {
    if (s.state == SlotState::in_flight) consider(s.deadline);
    if (s.state == SlotState::waiting)
      consider(last_send_ ? *last_send_ + options_.probe_interval_us : 0);
  }
  return next;
}

void TraceMachine::finish_hop_if_complete() {
  for (const auto& s : slots_) {
    if (s.state == SlotState::waiting || s.state == SlotState::in_flight) return;
  }
  HopStats stats(ttl_);
  for (const auto& s : slots_) {
    if (s.state == SlotState::answered) {
      stats.answered(s.rtt, s.from);
    } else {
      stats.lost();
    }
  }
  // A probe of path_mtu_ bytes that got an answer proves the path so far carries it.
  if (stats.result().received > 0) stats.set_mtu(path_mtu_);
  if (hop_destination_) stats.mark_destination();
  if (hop_unreachable_) stats.mark_unreachable();
  hops_.push_back(stats.result());
  if (hop_destination_) return finish(TraceOutcome::reached);
  if (hop_unreachable_) return finish(TraceOutcome::unreachable);
  if (ttl_ >= options_.max_hops) return finish(TraceOutcome::max_hops);
  start_hop(ttl_ + 1);
}

void TraceMachine::finish(TraceOutcome outcome, std::string error) {
  done_ = true;
  outcome_ = outcome;
  error_ = std::move(error);
  slots_.clear();
}

std::vector<HopResult> TraceMachine::take_completed() {
  std::vector<HopResult> out(hops_.begin() + static_cast<std::ptrdiff_t>(reported_), hops_.end());
  reported_ = hops_.size();
  return out;
}

}  // namespace postern::diag
