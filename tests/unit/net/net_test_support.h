// Helpers for loop tests: a loop that must close cleanly, bounded waits, and
// blocking loopback clients (plain and TLS) for a client thread.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "test_support.h"
#include "tls/client_config.h"
#include "tls/filter.h"

namespace postern::test {

// A uv loop for one test. run_until() waits for a loop-side condition with a
// bounded, scaled timeout; the destructor lets closing handles finish and
// checks uv_loop_close() == 0 (every handle closed).
class Loop {
 public:
  Loop() {
    // As in the server's main(): a write to a reset peer must be an EPIPE
    // error value, not a signal that ends the process.
    std::signal(SIGPIPE, SIG_IGN);
    REQUIRE(uv_loop_init(&loop_) == 0);
  }
  ~Loop() {
    // Closing handles need a turn or two; a live handle is a test failure.
    for (int i = 0; i < 100 && uv_loop_alive(&loop_); ++i) uv_run(&loop_, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&loop_);
    CHECK_MESSAGE(rc == 0, "a handle was left open");
    if (rc != 0) {  // close the rest so the loop can be released
      uv_walk(
          &loop_,
          [](uv_handle_t* h, void*) {
            if (!uv_is_closing(h)) uv_close(h, nullptr);
          },
          nullptr);
      uv_run(&loop_, UV_RUN_DEFAULT);
      uv_loop_close(&loop_);
    }
  }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;
  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done()` holds or `limit` (scaled) passes. A 5 ms tick
  // re-checks conditions set by other threads; it is a poll, not a sleep.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(10'000)) {
    struct Tick {
      uv_timer_t timer;
      std::chrono::steady_clock::time_point deadline;
      bool expired = false;
    };
    auto* tick = new Tick;
    tick->deadline = std::chrono::steady_clock::now() + scaled(limit);
    uv_timer_init(&loop_, &tick->timer);
    tick->timer.data = tick;
    uv_timer_start(
        &tick->timer,
        [](uv_timer_t* t) {
          auto* k = static_cast<Tick*>(t->data);
          if (std::chrono::steady_clock::now() >= k->deadline) k->expired = true;
        },
        5, 5);
    bool ok = done();
    while (!ok && !tick->expired) {
      uv_run(&loop_, UV_RUN_ONCE);
      ok = done();
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&tick->timer),
             [](uv_handle_t* h) { delete static_cast<Tick*>(h->data); });
    uv_run(&loop_, UV_RUN_NOWAIT);
    return ok;
  }

 private:
  uv_loop_t loop_;
};

// A blocking TCP client for a test thread; every receive is bounded by
// SO_RCVTIMEO (scaled), so a broken server fails the test instead of hanging it.
class Client {
 public:
  Client() = default;
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connect(std::uint16_t port, const char* address = "127.0.0.1",
               const char* source = nullptr) {
    bool v6 = std::strchr(address, ':') != nullptr;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    timeval tv{};
    auto limit = scaled(std::chrono::milliseconds(10'000));
    tv.tv_sec = static_cast<time_t>(limit.count() / 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (source != nullptr) {
      sockaddr_in from{};
      from.sin_family = AF_INET;
      ::inet_pton(AF_INET, source, &from.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) return false;
    }
    if (v6) {
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(port);
      ::inet_pton(AF_INET6, address, &to.sin6_addr);
      return ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, address, &to.sin_addr);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }

  bool send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Appends what one recv() returns; 0 on EOF, -1 on error or timeout.
  ssize_t receive(std::string& out) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) out.append(chunk, static_cast<std::size_t>(n));
    return n;
  }

  // Reads until `needle` is in `buffer_`; returns and removes everything up to
  // and including it. Empty on EOF, error or timeout.
  std::string read_until(std::string_view needle) {
    for (;;) {
      auto at = buffer_.find(needle);
      if (at != std::string::npos) {
        std::string line = buffer_.substr(0, at + needle.size());
        buffer_.erase(0, at + needle.size());
        return line;
      }
      if (receive(buffer_) <= 0) return {};
    }
  }

  // Everything until the server closes; `clean` false on error or timeout.
  std::string read_to_eof(bool* clean = nullptr) {
    std::string all = std::move(buffer_);
    buffer_.clear();
    ssize_t n;
    while ((n = receive(all)) > 0) {
    }
    if (clean) *clean = n == 0;
    return all;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  int fd() const { return fd_; }
  std::string& buffered() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// TLS on top of a Client, driving a client tls::Filter over the blocking socket.
class TlsClient {
 public:
  TlsClient(Client& socket, const tls::ClientConfig& config) : socket_(socket) {
    auto f = tls::Filter::create_client(config, "localhost");
    REQUIRE(f);
    filter_ = std::move(*f);
  }

  bool handshake() {
    for (;;) {
      auto done = filter_->handshake();
      if (!done) return false;
      if (!socket_.send_all(filter_->take_ciphertext())) return false;
      if (*done) return true;
      if (!feed_some()) return false;
    }
  }

  bool send(std::string_view bytes) {
    if (!filter_->write_plaintext(bytes)) return false;
    return socket_.send_all(filter_->take_ciphertext());
  }

  std::string read_until(std::string_view needle) {
    for (;;) {
      auto at = plain_.find(needle);
      if (at != std::string::npos) {
        std::string line = plain_.substr(0, at + needle.size());
        plain_.erase(0, at + needle.size());
        return line;
      }
      // Records may already sit in the filter (they came with the handshake).
      auto n = filter_->read_plaintext(plain_, 1 << 20);
      if (!n) return {};
      if (*n > 0) continue;
      if (filter_->peer_closed() || !feed_some()) return {};
    }
  }

 private:
  // Moves bytes already read (or one more recv) into the filter.
  bool feed_some() {
    std::string& pending = socket_.buffered();
    if (pending.empty() && socket_.receive(pending) <= 0) return false;
    filter_->feed_ciphertext(pending);
    pending.clear();
    return true;
  }

  Client& socket_;
  std::unique_ptr<tls::Filter> filter_;
  std::string plain_;
};

}  // namespace postern::test
