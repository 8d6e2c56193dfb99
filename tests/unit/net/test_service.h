// A configurable service for loop tests: per-connection handlers forward to
// the test's lambdas and count what happened. Loop thread only.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "net/connection.h"
#include "net/listener.h"
#include "net_test_support.h"

namespace postern::test {

struct TestService {
  using Hook = std::function<void(net::Connection&)>;
  Hook on_accept = [](net::Connection&) {};
  Hook on_input = [](net::Connection& c) {  // echo
    c.send(c.input());
    c.consume(c.input().size());
  };
  Hook on_timeout = [](net::Connection& c) { c.abort(); };
  Hook on_eof = [](net::Connection& c) { c.close_after_flush(); };
  Hook on_drain = [](net::Connection&) {};
  Hook on_tls_ready = [](net::Connection&) {};

  int accepted = 0, closed = 0, inputs = 0, timeouts = 0, drains = 0, tls_ready = 0;
  net::Connection* last = nullptr;  // the newest connection, null once closed

  struct Handler final : net::ConnectionHandler {
    explicit Handler(TestService& s) : service(s) {}
    void on_input(net::Connection& c) override {
      ++service.inputs;
      service.on_input(c);
    }
    void on_drain(net::Connection& c) override {
      ++service.drains;
      service.on_drain(c);
    }
    void on_tls_ready(net::Connection& c) override {
      ++service.tls_ready;
      service.on_tls_ready(c);
    }
    void on_eof(net::Connection& c) override { service.on_eof(c); }
    void on_timeout(net::Connection& c) override {
      ++service.timeouts;
      service.on_timeout(c);
    }
    void on_closed(net::Connection& c) override {
      ++service.closed;
      if (service.last == &c) service.last = nullptr;
      delete this;
    }
    TestService& service;
  };

  net::ConnectionFactory factory() {
    return [this](net::Connection& c) -> net::ConnectionHandler* {
      ++accepted;
      last = &c;
      on_accept(c);
      return new Handler(*this);
    };
  }
};

// Runs a client script on its own thread; the loop thread polls done().
class ClientThread {
 public:
  explicit ClientThread(std::function<void()> script)
      : thread_([this, script = std::move(script)] {
          script();
          done_.store(true);
        }) {}
  ~ClientThread() { join(); }
  bool done() const { return done_.load(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// A flag the loop thread raises and a client thread waits for (bounded).
class Signal {
 public:
  void raise() {
    std::lock_guard<std::mutex> lock(mutex_);
    raised_ = true;
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, scaled(std::chrono::milliseconds(10'000)), [&] { return raised_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool raised_ = false;
};

}  // namespace postern::test
