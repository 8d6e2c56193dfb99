// TraceBoard: a handful of trace records in start order, linear scans.
#include "http/traces.h"

#include <algorithm>

namespace postern::http {

void TraceBoard::prune(core::TimePoint now) {
  retired_.clear();
  std::erase_if(records_, [&](const Entry& e) {
    return e.record.done && now - e.record.finished >= options_.keep;
  });
}

std::size_t TraceBoard::running() const {
  return static_cast<std::size_t>(std::count_if(records_.begin(), records_.end(),
                                                [](const Entry& e) { return !e.record.done; }));
}

void TraceBoard::add(std::string id, std::string target, core::TimePoint now) {
  while (records_.size() >= options_.max_kept) {
    auto oldest = std::find_if(records_.begin(), records_.end(),
                               [](const Entry& e) { return e.record.done; });
    if (oldest == records_.end()) break;  // all running: max_running < max_kept prevents it
    if (oldest->run) retired_.push_back(std::move(oldest->run));
    records_.erase(oldest);
  }
  Entry e;
  e.record.id = std::move(id);
  e.record.target = std::move(target);
  e.record.started = now;
  records_.push_back(std::move(e));
}

TraceBoard::Entry* TraceBoard::entry(const std::string& id) {
  auto it = std::find_if(records_.begin(), records_.end(),
                         [&](const Entry& e) { return e.record.id == id; });
  return it == records_.end() ? nullptr : &*it;
}

void TraceBoard::attach(const std::string& id, std::unique_ptr<TraceRun> run) {
  Entry* e = entry(id);
  if (e == nullptr) return;
  if (e->record.done) {
    retired_.push_back(std::move(run));  // finished before start_trace returned
  } else {
    e->run = std::move(run);
  }
}

void TraceBoard::add_hop(const std::string& id, HopView hop) {
  Entry* e = entry(id);
  if (e == nullptr || e->record.done || e->record.hops.size() >= options_.max_hops) return;
  e->record.hops.push_back(std::move(hop));
}

void TraceBoard::finish(const std::string& id, TraceEnd end, core::TimePoint now) {
  Entry* e = entry(id);
  if (e == nullptr || e->record.done) return;
  e->record.done = true;
  e->record.finished = now;
  e->record.end = std::move(end);
  if (e->run) retired_.push_back(std::move(e->run));
}

void TraceBoard::remove(const std::string& id) {
  std::erase_if(records_, [&](const Entry& e) { return e.record.id == id; });
}

const TraceRecord* TraceBoard::find(const std::string& id) const {
  for (const Entry& e : records_) {
    if (e.record.id == id) return &e.record;
  }
  return nullptr;
}

std::vector<LinkPoint> downsample(const std::vector<LinkPoint>& points, std::size_t max) {
  if (max == 0 || points.size() <= max) return points;
  const std::size_t per = (points.size() + max - 1) / max;
  std::vector<LinkPoint> out;
  for (std::size_t i = 0; i < points.size(); i += per) {
    LinkPoint merged;
    merged.time_ms = points[i].time_ms;
    std::int64_t weighted = 0, answered = 0;
    for (std::size_t j = i; j < points.size() && j < i + per; ++j) {
      merged.sent += points[j].sent;
      merged.lost += points[j].lost;
      const int got = points[j].sent - points[j].lost;
      if (points[j].rtt_us >= 0 && got > 0) {
        weighted += points[j].rtt_us * got;
        answered += got;
      }
    }
    merged.rtt_us = answered > 0 ? weighted / answered : -1;
    out.push_back(merged);
  }
  return out;
}

}  // namespace postern::http
