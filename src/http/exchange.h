// http::Exchange: one HTTP connection, wiring net::Connection to a
// RequestParser and the Api, one request at a time (keep-alive, pipelining).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>

#include "core/clock.h"
#include "http/api.h"
#include "http/request_parser.h"
#include "net/connection.h"

namespace postern::http {

struct ExchangeOptions {
  ParserLimits parser;
  // From a request's first byte to its last: slowloris (a head or body
  // trickled a byte at a time) is cut off here, since net's idle timeout
  // restarts on every read. 20 s carries 64 KiB over a 3G link many times over.
  std::chrono::seconds request_timeout{20};
  // A keep-alive connection with no request under way closes after this.
  std::chrono::seconds idle_timeout{60};
};

class Exchange;
// The live exchanges of one server, for the request-timeout sweep. Shared, so
// an exchange that outlives its Server (closing) still has a place to leave.
struct ExchangeRegistry {
  std::unordered_set<Exchange*> live;
};

// Owns itself: deleted in on_closed(). Loop thread only. While a response is
// pending, reading is paused, so a pipelined request waits its turn
// (RFC 9112 §9.3.2: responses in request order).
class Exchange final : public net::ConnectionHandler {
 public:
  Exchange(net::Connection& conn, Api& api, const core::Clock& clock,
           const ExchangeOptions& options, std::shared_ptr<ExchangeRegistry> registry,
           RequestContext context);

  void on_input(net::Connection& conn) override;
  void on_drain(net::Connection& conn) override;
  void on_eof(net::Connection& conn) override;
  void on_timeout(net::Connection& conn) override;
  void on_closed(net::Connection& conn) override;
  // Idle eviction (net/idle_eviction.h): no request under way (a new connection, or
  // keep-alive between requests); evicting just closes (RFC 9112 §9.6).
  bool idle_evictable(const net::Connection& conn) const override;

  // From the server's sweep: answers 408 and closes once the request timeout passed.
  void check_deadline(core::TimePoint now);

 private:
  ~Exchange() override = default;
  void finish(const Response& response, bool keep_alive, bool head_only);
  void fail(int status, const char* reason);
  // Sends stream pieces while the write queue has room; ends the response after the last.
  void pump_stream();
  void end_response(bool keep);

  net::Connection* conn_;  // null once closed
  Api& api_;
  const core::Clock& clock_;
  ExchangeOptions options_;
  std::shared_ptr<ExchangeRegistry> registry_;
  RequestContext context_;
  RequestParser parser_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards late completions
  std::optional<core::TimePoint> deadline_;
  bool waiting_ = false;    // a response is pending
  bool peer_done_ = false;  // EOF seen while waiting
  bool draining_ = false;   // the write queue is above high water
  // A streamed body under way (waiting_ stays true until its last piece is queued).
  std::shared_ptr<BodyStream> stream_;
  std::size_t stream_index_ = 0;
  std::uint64_t stream_sent_ = 0, stream_sent_at_timeout_ = 0;
  bool stream_keep_ = false;
};

}  // namespace postern::http
