// One outgoing TCP connection on the loop (uv_tcp_connect), with an optional
// TLS client filter, a capped input buffer and an idle timeout. Knows no
// protocol; the POP3 collector (src/collect) is its user.
//
// Typical call sequence (loop thread):
//   Outbound* out = Outbound::connect(loop, address, handler, 60s);
//   on_connected(out)      -> POP3S: out.start_tls(config, host) ... on_tls_ready(out)
//   on_input(out)          -> n = session.feed(out.input()); out.consume(n);
//   out.send("CAPA\r\n")
//   out.close()            -> on_closed(out, Ending::local) follows from a later callback
// Every failure (connect, reset, EOF, timeout, TLS) ends in exactly one
// on_closed() with its reason, after which the object deletes itself.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <mbedtls/ssl.h>

#include "core/result.h"
#include "tls/filter.h"

namespace postern::net {

class Outbound;

enum class Ending { local, eof, timeout, connect_failed, io_error, tls_error };
const char* to_string(Ending ending) noexcept;

struct OutboundHandler {
  virtual ~OutboundHandler() = default;
  virtual void on_connected(Outbound& out) = 0;
  virtual void on_input(Outbound& out) = 0;  // input() grew
  virtual void on_tls_ready(Outbound&) {}
  // Last call; `code` is the uv or mbedTLS status (0 for local, eof, timeout).
  // The handler must not use `out` afterwards.
  virtual void on_closed(Outbound& out, Ending ending, int code) = 0;
};

// Ownership: owns itself; deleted after on_closed(), once its handles' close
// callbacks have run (STYLE trap 1). The handler must stay valid until then.
class Outbound {
 public:
  static constexpr std::size_t kMaxInputBytes = 256 * 1024;

  // Starts connecting to `address` (port set). Never null: a failure to start
  // is reported through on_closed(connect_failed) from a later loop turn.
  static Outbound* connect(uv_loop_t* loop, const sockaddr* address, OutboundHandler& handler,
                           std::chrono::milliseconds timeout);
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  std::string_view input() const noexcept { return input_; }
  // REQUIRES: n <= input().size(). Reading resumes when room appears.
  void consume(std::size_t n);
  // Queues bytes (encrypted once TLS is up). Ignored once closing.
  void send(std::string_view bytes);
  // DISCARDS buffered input first (RFC 2595 §4: nothing read before the
  // handshake counts as protected), then sends the ClientHello. `config`
  // must outlive the connection. REQUIRES: TLS not started.
  core::Result<void> start_tls(const mbedtls_ssl_config* config, const std::string& hostname);
  bool tls_active() const noexcept { return tls_ != nullptr && tls_->handshake_done(); }
  // Closes now (queued bytes already handed to the kernel still go out).
  void close();
  // Closes now and never calls the handler again (its owner is going away).
  void detach();

 private:
  Outbound(uv_loop_t* loop, OutboundHandler& handler, std::chrono::milliseconds timeout);
  ~Outbound() = default;
  void finish(Ending ending, int code);
  void write_raw(std::string bytes);
  void update_reading();
  void arm_timer();
  void on_bytes(const char* data, std::size_t size);

  static void on_connect(uv_connect_t* request, int status) noexcept;
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* request, int status) noexcept;
  static void on_timer(uv_timer_t* timer) noexcept;
  static void on_handle_closed(uv_handle_t* handle) noexcept;

  uv_tcp_t tcp_;
  uv_timer_t timer_;
  uv_connect_t connect_;
  int open_handles_ = 0;
  OutboundHandler* handler_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
  bool reading_ = false;
  bool closing_ = false;
  Ending ending_ = Ending::local;
  int code_ = 0;
  std::string input_;
  std::unique_ptr<tls::Filter> tls_;
  char scratch_[16 * 1024];
};

}  // namespace postern::net
