// One accepted TCP connection on the loop: a capped input buffer, a write
// queue with water marks, an idle timeout and an optional TLS filter. Knows no
// protocol: the service hands in its limits, timeouts and texts.
//
// Typical call sequence (SMTP over a plain listener):
//   Listener accepts -> factory(conn): conn.set_limits(..); conn.set_timeout(5min);
//                       conn.send("220 ..."); returns handler
//   on_input(conn):     net::offer_input(conn, feed, gate)  // offer_input.h: feed() whole
//                       lines, consume() what it took, pause_reading() while the gate is shut
//   completion:         conn.send(reply); net::offer_input(...) again  // the buffered rest;
//                       the gate open again: resume_reading(), offered on a later turn
//   write queue full:   can_send_more() false; ... on_drain(conn): send the next part
//   STARTTLS:           conn.send("220 ..."); conn.start_tls(config); ... on_tls_ready(conn)
//   QUIT:               conn.send("221 ..."); conn.close_after_flush(); ... on_closed(conn)
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "core/result.h"
#include "tls/filter.h"
#include "tls/server_config.h"

namespace postern::net {

class Connection;
class Listener;

// Implemented by a service. Every call comes from a libuv callback on the loop
// thread, never from inside a Connection method the handler itself called, so
// a handler may call any Connection method from any of these.
struct ConnectionHandler {
  virtual ~ConnectionHandler() = default;
  // input() grew (or resume_reading() asked for a new offer). Consume what can
  // be used; the rest stays and is offered again with the next bytes.
  virtual void on_input(Connection& conn) = 0;
  // queued_bytes() fell to the low-water mark after reaching the high-water mark.
  virtual void on_drain(Connection&) {}
  // The TLS handshake finished; send() is now encrypted.
  virtual void on_tls_ready(Connection&) {}
  // The peer finished sending (FIN or TLS close_notify), called once after the
  // buffered input has been offered and while not paused. The peer may still
  // read: a service with a reply pending sends it first. Default: close_after_flush().
  virtual void on_eof(Connection& conn);
  // No bytes arrived for the set_timeout() period. The service usually sends its
  // goodbye and calls close_after_flush(); doing nothing re-arms on the next read.
  virtual void on_timeout(Connection& conn) = 0;
  // Last call: the handles are closed and `conn` is deleted right after this
  // returns. The handler must not keep or use `conn` afterwards.
  virtual void on_closed(Connection& conn) = 0;
  // Idle eviction (net/idle_eviction.h): whether the listener may close this connection
  // under load, i.e. the peer owes the next command before authentication or between
  // messages and nothing is under way. Default: never.
  virtual bool idle_evictable(const Connection&) const { return false; }
  // Closes it for that reason: the protocol's goodbye, then close_after_flush().
  // Default: close_after_flush().
  virtual void on_evict(Connection& conn);
};

// Buffer caps and write water marks, in bytes, chosen by the service.
struct ConnectionLimits {
  std::size_t max_input_bytes = 64 * 1024;    // input() never holds more
  std::size_t high_water_bytes = 256 * 1024;  // can_send_more() is false from here
  std::size_t low_water_bytes = 16 * 1024;    // on_drain at or below, after high water
};

// Ownership: a Connection owns itself. The Listener creates it, and it deletes
// itself after on_closed(), once its uv handles' close callbacks have run (STYLE
// trap 1: handle memory is freed only after close_cb). Its handler (owned by
// the service) must outlive it, or at least stay valid until on_closed().
// Loop thread only; non-copyable, non-movable (libuv holds its address).
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void set_limits(const ConnectionLimits& limits);
  // 0 disables. Restarted on each read from the socket; also bounds
  // close_after_flush() against a peer that stops reading.
  void set_timeout(std::chrono::milliseconds timeout);

  // --- input ---
  std::string_view input() const noexcept { return input_; }
  // REQUIRES: n <= input().size().
  void consume(std::size_t n);
  // Stop offering input (e.g. a session waiting for a commit). The socket is
  // still read until input() holds max_input_bytes; then reading stops too.
  void pause_reading() noexcept { paused_ = true; }
  // Offer input again: buffered bytes (and a pending EOF) are offered on a
  // later loop turn, not from inside this call.
  void resume_reading();
  // Whether the socket is being read now (false when the input buffer is full,
  // after EOF, or while closing).
  bool reading() const noexcept { return reading_; }

  // --- output ---
  // Queues bytes, encrypted when TLS is on (held until the handshake ends if it
  // is under way). Ignored once closing. The view is copied; the owning overload
  // hands its buffer to the write as it is when no TLS is on (a RETR chunk is not
  // copied again on its way to the socket).
  void send(std::string_view bytes);
  void send(std::string&& bytes);
  void send(const char* bytes) { send(std::string_view(bytes)); }
  std::size_t queued_bytes() const noexcept { return queued_; }
  bool can_send_more() const noexcept { return queued_ < limits_.high_water_bytes; }

  // Stops reading, sends what is queued (then close_notify under TLS), shuts
  // down the write side and closes. Later send() calls are ignored. During a
  // TLS handshake nothing can be sent, so it closes at once.
  void close_after_flush();
  // Closes now; queued bytes are dropped.
  void abort();

  // --- TLS ---
  // DISCARDS all buffered, not yet consumed input first: bytes pipelined after
  // STARTTLS/STLS must not be read as if protected (RFC 3207 §4.2, RFC 2595 §4;
  // CVE-2011-0411). Then the next socket bytes drive the handshake; on_tls_ready
  // follows. REQUIRES: TLS not started yet. `config` must outlive the connection.
  core::Result<void> start_tls(const tls::ServerConfig& config);
  // The handshake completed: what is read and sent now is protected.
  bool tls_active() const noexcept { return tls_ != nullptr && tls_->handshake_done(); }

  // --- peer ---
  const std::string& peer_address() const noexcept { return peer_; }
  bool is_loopback() const noexcept { return loopback_; }
  // "<listener name>/<n>", for log lines.
  const std::string& id() const noexcept { return id_; }
  // Loop time (uv_now, ms) of the last read from the socket, or of the accept.
  std::uint64_t silent_since_ms() const noexcept { return silent_since_ms_; }

 private:
  friend class Listener;
  enum class State { open, flushing, closing };

  Connection(uv_loop_t* loop, std::string id);
  ~Connection() = default;
  // Accepts from `server`; on failure the connection closes itself (no handler yet).
  bool accept(uv_stream_t* server);
  void start(ConnectionHandler* handler);  // begins reading; null handler aborts

  void pump_tls();
  void deliver();
  void update_reading();
  void schedule_offer();
  void write_raw(std::string bytes);
  void flush_tls();
  void finish_flush();
  void close_handles();
  void fail(const char* event, const char* detail);
  std::size_t room() const noexcept;

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* request, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* request, int status) noexcept;
  static void on_timer(uv_timer_t* timer) noexcept;
  static void on_offer(uv_idle_t* idle) noexcept;
  void wait_for_budget();
  static void on_handle_closed(uv_handle_t* handle) noexcept;

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_idle_t offer_;  // deferred offers (resume_reading, consume under TLS), budget waits
  uv_shutdown_t shutdown_;
  int open_handles_ = 0;

  ConnectionHandler* handler_ = nullptr;
  Listener* listener_ = nullptr;  // null once the listener is gone
  bool admitted_ = false;         // counted against the listener's limits
  bool evicted_ = false;          // closed by the listener's idle eviction
  std::uint64_t serial_ = 0;      // the listener's accept order
  std::uint64_t silent_since_ms_ = 0;
  ConnectionLimits limits_;
  std::chrono::milliseconds timeout_{0};
  State state_ = State::open;

  std::string input_;
  bool paused_ = false;
  bool reading_ = false;
  bool over_budget_ = false;  // the loop's read budget ran out: read again next iteration
  bool eof_ = false;
  bool eof_offered_ = false;

  std::size_t queued_ = 0;  // bytes handed to uv_write (or held for TLS), not yet written
  std::size_t writes_in_flight_ = 0;
  bool above_high_water_ = false;

  std::unique_ptr<tls::Filter> tls_;
  std::string held_plaintext_;  // sent while the handshake was under way

  std::string id_;
  std::string peer_;
  bool loopback_ = false;
};

}  // namespace postern::net
