// TraceMachine with fake time: hops, loss, timeouts, MTU re-sends and the end of a trace.
#include "diag/trace_machine.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <vector>

using namespace postern;
using diag::ProbeReply;
using diag::ProbeRequest;
using diag::ReplyKind;

namespace {

diag::TraceOptions options(int probes = 3, int max_hops = 30) {
  diag::TraceOptions o;
  o.probes = probes;
  o.max_hops = max_hops;
  o.probe_timeout_us = 1'000'000;
  o.probe_interval_us = 10'000;
  o.initial_mtu = 1500;
  return o;
}

// Sends every probe due until `until`, advancing fake time by the interval.
std::vector<ProbeRequest> send_hop(diag::TraceMachine& m, diag::Micros& now, int count) {
  std::vector<ProbeRequest> sent;
  for (int guard = 0; guard < 100 && static_cast<int>(sent.size()) < count; ++guard) {
    m.on_tick(now);
    if (auto p = m.next_probe(now)) {
      sent.push_back(*p);
    } else {
      REQUIRE(m.next_wakeup());
      now = *m.next_wakeup();
    }
  }
  REQUIRE(static_cast<int>(sent.size()) == count);
  return sent;
}

ProbeReply reply(ReplyKind kind, const ProbeRequest& p, const char* from, diag::Micros at,
                 int mtu = 0) {
  return ProbeReply{kind, p.port, from, mtu, at};
}

}  // namespace

TEST_CASE("A three-hop trace reports each hop in order and ends at the destination") {
  diag::TraceMachine m(options(), diag::Family::ipv4);
  diag::Micros now = 1'000'000;
  auto hop1 = send_hop(m, now, 3);
  CHECK(hop1[0].ttl == 1);
  CHECK(hop1[0].port == 33434);
  CHECK(hop1[1].port == 33435);
  CHECK(hop1[0].payload_bytes == 1500 - 20 - 8);
  CHECK_FALSE(m.next_probe(now + 1'000'000));  // all three in flight: nothing more to send
  for (const auto& p : hop1) m.on_reply(reply(ReplyKind::time_exceeded, p, "10.0.0.1", now + 500));
  auto done = m.take_completed();
  REQUIRE(done.size() == 1);
  CHECK(done[0].ttl == 1);
  CHECK(done[0].address == "10.0.0.1");
  CHECK(done[0].received == 3);
  CHECK(done[0].mtu == 1500);

  auto hop2 = send_hop(m, now, 3);
  CHECK(hop2[0].ttl == 2);
  m.on_reply(reply(ReplyKind::time_exceeded, hop2[0], "10.0.1.1", now + 30'000));
  m.on_reply(reply(ReplyKind::time_exceeded, hop2[2], "10.0.1.1", now + 30'000));
  CHECK(m.take_completed().empty());  // the middle probe is still out
  m.on_tick(now + 2'000'000);         // ... and now timed out
  done = m.take_completed();
  REQUIRE(done.size() == 1);
  CHECK(done[0].lost() == 1);
  CHECK(done[0].rtts_us[1] == -1);  // in send order
  CHECK(done[0].loss_percent() == 33);

  now += 2'000'000;
  auto hop3 = send_hop(m, now, 3);
  CHECK(hop3[0].ttl == 3);
  for (const auto& p : hop3)
    m.on_reply(reply(ReplyKind::destination, p, "192.0.2.7", now + 40'000));
  CHECK(m.done());
  CHECK(m.outcome() == diag::TraceOutcome::reached);
  done = m.take_completed();
  REQUIRE(done.size() == 1);
  CHECK(done[0].destination);
  CHECK(m.hops().size() == 3);
  CHECK_FALSE(m.next_wakeup());
  CHECK_FALSE(m.next_probe(now + 10'000'000));
}

TEST_CASE("Probes of a hop are spaced by the interval and the wakeup says when") {
  diag::TraceMachine m(options(2), diag::Family::ipv4);
  auto first = m.next_probe(100);
  REQUIRE(first);
  CHECK_FALSE(m.next_probe(100 + 9'999));
  CHECK(*m.next_wakeup() == 100 + 10'000);
  auto second = m.next_probe(100 + 10'000);
  REQUIRE(second);
  CHECK(*m.next_wakeup() == 100 + 1'000'000);  // the first probe's timeout
}

TEST_CASE("A silent path ends at max hops with every probe lost") {
  diag::TraceMachine m(options(2, 3), diag::Family::ipv6);
  diag::Micros now = 0;
  for (int hop = 1; hop <= 3; ++hop) {
    auto sent = send_hop(m, now, 2);
    CHECK(sent[0].ttl == hop);
    CHECK(sent[0].payload_bytes == 1500 - 40 - 8);
    for (int guard = 0; guard < 10 && !m.done() && m.current_ttl() == hop; ++guard) {
      now = *m.next_wakeup();  // the next timeout
      m.on_tick(now);
    }
  }
  CHECK(m.done());
  CHECK(m.outcome() == diag::TraceOutcome::max_hops);
  REQUIRE(m.hops().size() == 3);
  CHECK(m.hops()[2].address.empty());
  CHECK(m.hops()[2].loss_percent() == 100);
  CHECK(m.hops()[2].mtu == 0);  // nothing answered: unknown
}

TEST_CASE("Late, foreign and unmatched replies do not count") {
  diag::TraceMachine m(options(1, 2), diag::Family::ipv4);
  diag::Micros now = 0;
  auto p = send_hop(m, now, 1)[0];
  m.on_reply(
      ProbeReply{ReplyKind::time_exceeded, static_cast<std::uint16_t>(p.port + 7), "x", 0, 5});
  m.on_reply(reply(ReplyKind::other, p, "x", 5));
  CHECK(m.take_completed().empty());
  m.on_tick(1'000'000);
  auto lost = m.take_completed();
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].received == 0);
  m.on_reply(reply(ReplyKind::time_exceeded, p, "10.0.0.1", 1'100'000));  // too late
  CHECK(m.take_completed().empty());
  CHECK(m.current_ttl() == 2);
}

TEST_CASE("A local EMSGSIZE error lowers the MTU and re-sends without counting a loss") {
  auto o = options(2);
  o.initial_mtu = 65535;
  diag::TraceMachine m(o, diag::Family::ipv4);
  diag::Micros now = 0;
  auto sent = send_hop(m, now, 2);
  CHECK(sent[0].packet_bytes == 65535);
  // Local errors name no port (unconnected socket): every larger probe is re-queued.
  m.on_reply(ProbeReply{ReplyKind::mtu, 0, "", 1500, now});
  CHECK(m.path_mtu() == 1500);
  auto again = send_hop(m, now, 2);
  CHECK(again[0].packet_bytes == 1500);
  CHECK(again[0].ttl == 1);
  CHECK(again[0].id != sent[0].id);
  for (const auto& p : again) m.on_reply(reply(ReplyKind::time_exceeded, p, "10.0.0.1", now + 100));
  auto hop = m.take_completed();
  REQUIRE(hop.size() == 1);
  CHECK(hop[0].sent == 2);
  CHECK(hop[0].received == 2);
  CHECK(hop[0].mtu == 1500);
}

TEST_CASE("Frag-needed from a router sets the path MTU reported from that hop on") {
  diag::TraceMachine m(options(1), diag::Family::ipv4);
  diag::Micros now = 0;
  auto p1 = send_hop(m, now, 1)[0];
  m.on_reply(reply(ReplyKind::time_exceeded, p1, "10.0.0.1", now + 10));
  auto p2 = send_hop(m, now, 1)[0];
  m.on_reply(reply(ReplyKind::mtu, p2, "10.0.0.1", now + 10, 1400));
  auto p2b = send_hop(m, now, 1)[0];
  CHECK(p2b.packet_bytes == 1400);
  CHECK(p2b.payload_bytes == 1400 - 28);
  m.on_reply(reply(ReplyKind::time_exceeded, p2b, "10.0.1.1", now + 20));
  // An old router's frag-needed without an MTU (RFC 1191 §5): the next plateau down.
  auto p3 = send_hop(m, now, 1)[0];
  m.on_reply(reply(ReplyKind::mtu, p3, "10.0.1.1", now + 20, 0));
  auto p3b = send_hop(m, now, 1)[0];
  CHECK(p3b.packet_bytes == 1280);
  m.on_reply(reply(ReplyKind::destination, p3b, "192.0.2.1", now + 30));
  REQUIRE(m.hops().size() == 3);
  CHECK(m.hops()[0].mtu == 1500);
  CHECK(m.hops()[1].mtu == 1400);
  CHECK(m.hops()[2].mtu == 1280);
  CHECK(m.outcome() == diag::TraceOutcome::reached);
}

TEST_CASE("An EMSGSIZE from sendto without an error-queue entry falls back to a plateau") {
  diag::TraceMachine m(options(1), diag::Family::ipv6);
  auto p = m.next_probe(0);
  REQUIRE(p);
  m.on_send_failed(p->id, EMSGSIZE, 0);
  auto again = m.next_probe(0);
  REQUIRE(again);
  CHECK(again->packet_bytes == 1492);
  m.on_send_failed(again->id, EMSGSIZE, 0);
  auto last = m.next_probe(0);
  REQUIRE(last);
  CHECK(last->packet_bytes == 1280);
  m.on_send_failed(last->id, EMSGSIZE, 0);  // at the IPv6 minimum: counted lost
  CHECK(m.hops().size() == 1);
  CHECK(m.hops()[0].lost() == 1);
}

TEST_CASE("Unreachable ends the trace there, and a local no-route fails it") {
  diag::TraceMachine m(options(1), diag::Family::ipv4);
  auto p = m.next_probe(0);
  m.on_reply(reply(ReplyKind::unreachable, *p, "10.0.0.1", 10));
  CHECK(m.done());
  CHECK(m.outcome() == diag::TraceOutcome::unreachable);
  CHECK(m.hops()[0].unreachable);

  diag::TraceMachine n(options(1), diag::Family::ipv4);
  auto q = n.next_probe(0);
  n.on_send_failed(q->id, ENETUNREACH, 0);
  CHECK(n.done());
  CHECK(n.outcome() == diag::TraceOutcome::failed);
  CHECK(n.error().find("send-") == 0);

  diag::TraceMachine k(options(1), diag::Family::ipv4);
  auto r = k.next_probe(0);
  k.on_send_failed(r->id, ECONNREFUSED, 0);  // counted lost, the trace goes on
  CHECK_FALSE(k.done());
  CHECK(k.hops().size() == 1);
}

TEST_CASE("Options outside their ranges are refused") {
  auto o = options();
  CHECK(diag::check_options(o));
  o.probes = 0;
  CHECK(diag::check_options(o).error().where == std::string("probes"));
  o = options();
  o.max_hops = 256;
  CHECK(diag::check_options(o).error().where == std::string("max-hops"));
  o = options();
  o.first_ttl = 31;
  CHECK_FALSE(diag::check_options(o));
  o = options();
  o.initial_mtu = 20;
  CHECK_FALSE(diag::check_options(o));
}

TEST_CASE("A single-TTL probe run (the link monitor's ping) measures the destination only") {
  auto o = options(4, 64);
  o.first_ttl = 64;
  diag::TraceMachine m(o, diag::Family::ipv4);
  diag::Micros now = 0;
  auto sent = send_hop(m, now, 4);
  CHECK(sent[3].ttl == 64);
  m.on_reply(reply(ReplyKind::destination, sent[0], "192.0.2.1", 2'000));   // sent at 0
  m.on_reply(reply(ReplyKind::destination, sent[2], "192.0.2.1", 42'000));  // sent at 20 ms
  m.on_tick(5'000'000);
  CHECK(m.outcome() == diag::TraceOutcome::reached);
  REQUIRE(m.hops().size() == 1);
  CHECK(m.hops()[0].loss_percent() == 50);
  CHECK(m.hops()[0].rtt_min_us == 2'000);
  CHECK(m.hops()[0].rtt_max_us == 22'000);
}
