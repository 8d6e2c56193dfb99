// load_client.h: the plumbing the loopback load tools share: the common options, a
// loopback-only endpoint, a non-blocking client socket with its buffers, CRLF line reading and
// the poll(2) loop.
//
// The tools are single-threaded: everything here runs on the one thread that calls
// poll_until(). Typical use, per connection C (a struct deriving from Stream):
//   C.open(endpoint)                          start connecting; the tool's state "connecting"
//   poll_until(conns, deadline, events, ready)
//     ready(C, revents): C.connect_succeeded() once, then C.flush(write) on POLLOUT and
//                        C.fill(read, ...) + C.take_lines(on_line) on POLLIN/POLLHUP/POLLERR
//   C.close()                                 on failure, at the end, or to reopen
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postern::bench {

using Clock = std::chrono::steady_clock;

// The options every load tool takes: --host, --port, --connections, --time-limit.
struct Target {
  std::string host = "127.0.0.1";
  int port = 0;               // required: 0 means not given
  unsigned connections = 10;  // 1..1000
  double time_limit_s = 30;   // the run's bound, 0.1..86400
};

// Whether `text` is, whole, a number in [min, max] (stored in `out`).
bool parse_number(const char* text, double min, double max, double& out);

// Takes `key value` when key is one of Target's options and the value is valid; false when
// the key is another one (the tool's own) or the value is out of range.
bool parse_target_option(std::string_view key, const char* value, Target& target);

// Parses a tool's command line: `--key value` pairs, Target's through parse_target_option and
// the tool's own through own(key, value), which returns false for an unknown key or a bad
// value; and value-less flags, for which flag(key) returns true (having taken them). False on
// bad usage or without --port.
template <class Flag, class Own>
bool parse_args(int argc, char** argv, Target& target, Flag flag, Own own) {
  for (int i = 1; i < argc; ++i) {
    std::string_view key = argv[i];
    if (flag(key)) continue;
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (!parse_target_option(key, value, target) && !own(key, value)) return false;
  }
  return target.port != 0;
}

// The deadline `seconds` after `start`.
Clock::time_point deadline_after(Clock::time_point start, double seconds);

// Where the connections go. Loopback only: a load tool must never load another host.
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

// Fills `out` for a literal loopback address (127.0.0.0/8 or ::1) and port; false for any
// other host, which the tool refuses.
bool loopback_endpoint(const std::string& host, int port, Endpoint& out);

// > 0: bytes moved; 0: would block; < 0: closed by the peer or failed. EINTR is retried.
long send_some(int fd, const char* data, std::size_t size);
long recv_some(int fd, char* data, std::size_t size);

// One client socket and its buffers. Owns fd (closed by close(), not by the destructor:
// the tools reopen a connection in place and close every socket once at the end of the run).
struct Stream {
  int fd = -1;
  std::string in;                // received, not yet handed on as lines
  std::string out;               // the request being sent
  std::size_t out_sent = 0;      // bytes of `out` handed to the kernel (or to TLS)
  unsigned long generation = 0;  // bumped by each open(): a reopened socket may reuse the fd

  // Empties the buffers and starts a non-blocking connect (TCP_NODELAY: one request at a
  // time, so Nagle would only add delay). The connect completes when poll reports POLLOUT;
  // check it with connect_succeeded(). False when the socket or connect failed (fd is -1).
  bool open(const Endpoint& to);
  // REQUIRES: the socket was reported writable while connecting. The connect's outcome.
  bool connect_succeeded() const;
  void close();
  // Makes `text` the request to send (flush() sends it).
  void set_request(std::string text) {
    out = std::move(text);
    out_sent = 0;
  }
  bool output_pending() const { return out_sent < out.size(); }

  // Sends the rest of `out` through write (send_some's contract) until it would block.
  // False when the connection failed.
  template <class Write>
  bool flush(Write write) {
    while (out_sent < out.size()) {
      long n = write(out.data() + out_sent, out.size() - out_sent);
      if (n == 0) return true;
      if (n < 0) return false;
      out_sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Appends to `in` what read (recv_some's contract) yields until it would block. False when
  // the stream ended or failed; the lines already read are still to be handed on. A short read
  // from a plain socket has drained it; TLS may still hold a decrypted record, so it passes
  // short_read_drains = false and reads on until TLS would block.
  template <class Read>
  bool fill(Read read, bool short_read_drains) {
    char buf[65536];
    for (;;) {
      long n = read(buf, sizeof buf);
      if (n == 0) return true;
      if (n < 0) return false;
      in.append(buf, static_cast<std::size_t>(n));
      if (short_read_drains && n < static_cast<long>(sizeof buf)) return true;
    }
  }

  // Hands each complete line of `in` to on_line (a string_view without its CRLF, valid for the
  // call), then drops the lines handed on. Returns false, leaving `in` alone, as soon as
  // on_line closed or reopened this stream: its buffer then is not the one being read.
  template <class OnLine>
  bool take_lines(OnLine on_line) {
    const unsigned long opened = generation;
    std::size_t used = 0;
    for (;;) {
      std::size_t end = in.find("\r\n", used);
      if (end == std::string::npos) break;
      std::string_view line(in.data() + used, end - used);
      used = end + 2;
      on_line(line);
      if (fd < 0 || generation != opened) return false;
    }
    in.erase(0, used);
    return true;
  }
};

// How often the tool may still reopen a failed connection: 10 times per connection over the
// run, so that a refusing server ends the run instead of spinning.
class ReconnectBudget {
 public:
  explicit ReconnectBudget(unsigned connections) : left_(10ul * connections) {}
  // Spends one reconnect; false when none is left.
  bool take() {
    if (left_ == 0) return false;
    --left_;
    return true;
  }

 private:
  unsigned long left_;
};

// Polls the connections' open sockets until none is open (returns false) or `deadline` passes
// (returns true: the run was cut, with the sessions then in progress unfinished). events(c) is
// the poll events to wait for; ready(c, revents) handles what came. A socket closed or
// replaced while another was handled is left to the next poll. An error of poll itself other
// than EINTR ends the loop (false).
template <class Conn, class Events, class Ready>
bool poll_until(std::vector<Conn>& conns, Clock::time_point deadline, Events events, Ready ready) {
  std::vector<pollfd> fds;
  std::vector<Conn*> owners;
  for (;;) {
    fds.clear();
    owners.clear();
    for (auto& c : conns) {
      if (c.fd < 0) continue;
      fds.push_back({c.fd, events(c), 0});
      owners.push_back(&c);
    }
    if (fds.empty()) return false;
    if (Clock::now() >= deadline) return true;
    int n = ::poll(fds.data(), fds.size(), 100);
    if (n < 0 && errno != EINTR) return false;
    for (std::size_t i = 0; n > 0 && i < fds.size(); ++i) {
      Conn& c = *owners[i];
      if (fds[i].revents == 0 || c.fd != fds[i].fd) continue;
      ready(c, fds[i].revents);
    }
  }
}

}  // namespace postern::bench
