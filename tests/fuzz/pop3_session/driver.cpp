// libFuzzer driver for pop3::Session: arbitrary client bytes, split and completed in
// input-chosen ways, against a fake host with a small maildrop.
//
// Input: byte 0 = flags (TLS, loopback, password-check and UPDATE failures, chunk size),
// byte 1 = splits and line limit; then, up to a "\0\1" separator when there is one, the
// stored bytes of a fifth message; the rest is what the client sends.
//
// Checks beyond the sanitizers: feed() never claims more than it was given, nothing is
// sent after close(), session_ended() comes exactly once; and the whole transcript the
// client read parses as POP3 (RFC 1939 §3): every status line starts "+OK" or "-ERR" (or
// "+ " for a SASL challenge) and ends in CRLF, every multi-line response ends with
// ".\r\n" (only the last one may be cut, by a store failure or the end of the session),
// LIST/UIDL/CAPA lines end in CRLF, and a RETR or TOP body, unstuffed, is the stored
// message (RETR) or its first lines (TOP) with at most a CRLF added at the end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "pop3/session.h"

namespace {

using namespace postern;

void require(bool ok) {
  if (!ok) std::abort();
}

class FuzzHost final : public pop3::Host {
 public:
  std::vector<std::string> bodies = {"Subject: a\r\n\r\n.dot\r\nbody\r\n", "", "no crlf",
                                     "H: x\r\n\r\n" + std::string(300, '.')};
  std::size_t chunk_size = 5;
  bool password_pending = false, update_pending = false, tls_pending = false;
  bool closed = false;
  int ended = 0;
  std::size_t budget = 64;
  bool fail_chunk = false;  // one read of a later chunk fails (flags bit 7)
  std::string transcript;   // everything the client read
  // Where a RETR/TOP body starts in the transcript (right after its "+OK" line): the
  // first chunk is read before "+OK" is sent, so the mark is the next send's end of line.
  struct Mark {
    std::size_t at;
    std::uint64_t key;
  };
  std::vector<Mark> marks;
  bool mark_pending = false;
  std::uint64_t mark_key = 0;

  void send(std::string bytes_owned) override {
    const std::string_view bytes = bytes_owned;
    require(!closed && !bytes.empty());
    if (mark_pending) {
      // "+OK ...\r\n" then possibly the first stuffed chunk, in one send.
      require(bytes.substr(0, 3) == "+OK");
      const std::size_t eol = bytes.find("\r\n");
      require(eol != std::string_view::npos);
      marks.push_back({transcript.size() + eol + 2, mark_key});
      mark_pending = false;
    }
    transcript.append(bytes);
    budget = bytes.size() >= budget ? 0 : budget - bytes.size();
  }
  void check_password(std::string_view, std::string_view password) override {
    password_pending = true;
    password_ok = password == "secret";
  }
  // ASYNC since issue 16 §3: the snapshot is handed back by the driver's loop.
  void open_maildrop(std::string_view user) override {
    maildrop_pending = true;
    maildrop_busy = user == "busy";
  }
  core::Result<pop3::Maildrop> snapshot() const {
    if (maildrop_busy) return core::make_error(core::Errc::busy, "fuzz");
    pop3::Maildrop drop;
    for (std::size_t i = 0; i < bodies.size(); ++i)
      drop.messages.push_back({i, bodies[i].size(), pop3::UniqueId("uid" + std::to_string(i))});
    return drop;
  }
  bool maildrop_pending = false, maildrop_busy = false;
  core::Result<std::string> read_message_chunk(const pop3::MessageEntry& m,
                                               std::size_t index) override {
    const std::string& body = bodies.at(m.key);
    if (index == 0) {
      mark_pending = true;
      mark_key = m.key;
    } else if (fail_chunk) {
      fail_chunk = false;
      return core::make_error(core::Errc::io, "fuzz");
    }
    if (index * chunk_size >= body.size()) return std::string();
    return body.substr(index * chunk_size, chunk_size);
  }
  bool can_send_more() const override { return budget > 0; }
  void update(const std::vector<std::uint64_t>&, const std::vector<std::uint64_t>&) override {
    update_pending = true;
  }
  void session_ended(const pop3::SessionSummary& summary) override {
    require(++ended == 1);
    require(summary.removed <= summary.marked_deleted && summary.retrieved <= bodies.size() &&
            summary.marked_deleted <= bodies.size());
  }
  void start_tls() override { tls_pending = true; }
  void close() override {
    require(!closed);
    closed = true;
  }

  bool password_ok = false;
};

// RFC 1939 §3: the stuffed lines up to the terminator "." CRLF, without it; npos when the
// block is cut. Lines may end in a bare LF when the stored message has one (a Maildir
// import is byte-exact), so a terminator is "\n.\r\n" or one at the block's start.
std::size_t block_end(std::string_view t, std::size_t from) {
  if (t.substr(from, 3) == ".\r\n") return from;
  const std::size_t end = t.find("\n.\r\n", from);
  return end == std::string_view::npos ? end : end + 1;
}

std::string unstuff(std::string_view block) {
  std::string out;
  bool line_start = true;
  for (char c : block) {
    if (!(line_start && c == '.')) out.push_back(c);
    line_start = c == '\n';
  }
  return out;
}

// The stored message with at most the CRLF the stuffer adds (DotStuffer::finish()).
bool matches_retr(const std::string& sent, const std::string& body) {
  if (sent == body) return true;
  if (body.empty()) return false;
  if (body.back() == '\r') return sent == body + "\n";
  return body.back() != '\n' && sent == body + "\r\n";
}

// TOP: a prefix of the message ending at a line end (or all of it, as for RETR).
bool matches_top(const std::string& sent, const std::string& body) {
  if (matches_retr(sent, body)) return true;
  return sent.size() < body.size() && body.compare(0, sent.size(), sent) == 0 &&
         (sent.empty() || sent.back() == '\n');
}

void check_transcript(const FuzzHost& host) {
  std::string_view t = host.transcript;
  std::size_t at = 0, mark = 0;
  while (at < t.size()) {
    if (mark < host.marks.size() && host.marks[mark].at == at) {
      const std::size_t end = block_end(t, at);
      const std::string& body = host.bodies.at(host.marks[mark].key);
      ++mark;
      if (end == std::string_view::npos) {
        require(mark == host.marks.size());  // only the last stream may be cut short
        return;
      }
      const std::string sent = unstuff(t.substr(at, end - at));
      require(matches_top(sent, body));
      at = end + 3;
      continue;
    }
    const std::size_t eol = t.find("\r\n", at);
    require(eol != std::string_view::npos);  // every status line ends in CRLF
    const std::string_view line = t.substr(at, eol - at);
    require(line.find('\n') == std::string_view::npos && line.find('\r') == std::string_view::npos);
    const bool ok = line.substr(0, 3) == "+OK", err = line.substr(0, 4) == "-ERR";
    require(ok || err || line == "+ ");
    if (ok) require(line.size() == 3 || line[3] == ' ');
    if (err) require(line.size() == 4 || line[4] == ' ');
    at = eol + 2;
    // A LIST/UIDL/CAPA body follows a +OK when the next line is not a status line.
    if (line.substr(0, 3) == "+OK" && at < t.size() && t[at] != '+' && t[at] != '-' &&
        !(mark < host.marks.size() && host.marks[mark].at == at)) {
      for (;;) {
        const std::size_t end = t.find("\r\n", at);
        require(end != std::string_view::npos);
        const std::string_view item = t.substr(at, end - at);
        require(item.find('\n') == std::string_view::npos &&
                item.find('\r') == std::string_view::npos);
        at = end + 2;
        if (item == ".") break;
        require(!item.empty() && item[0] != '.');
      }
    }
  }
  require(mark == host.marks.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (core::set_log_to_stderr(false), true);
  (void)quiet;
  if (size < 2) return 0;
  const std::uint8_t flags = data[0], splits = data[1];
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  FuzzHost host;
  if (const std::size_t sep = input.find(std::string_view("\0\1", 2));
      sep != std::string_view::npos) {
    host.bodies.emplace_back(input.substr(0, sep));
    input.remove_prefix(sep + 2);
  }
  host.chunk_size = 1 + (flags >> 4);
  host.fail_chunk = (flags & 0x80) != 0 && (flags & 0x40) != 0;
  core::ManualClock clock;
  pop3::Limits limits;
  limits.max_line = 16 + (splits & 0x3f) * 4;
  pop3::Peer peer{"fuzz", (flags & 1) != 0, (flags & 2) != 0, "f"};
  pop3::Session session(host, limits, clock, peer);

  std::string buffer;
  std::size_t at = 0;
  const std::size_t step = 1 + (splits >> 6) * 7;
  while (at < input.size() || !buffer.empty()) {
    if (at < input.size()) {
      buffer.append(input.substr(at, step));
      at += step;
    }
    const std::size_t n = session.wants_input() ? session.feed(buffer) : 0;
    require(n <= buffer.size());
    buffer.erase(0, n);
    bool progressed = n > 0;
    if (host.tls_pending) {
      buffer.clear();  // RFC 2595 §4: plaintext after STLS is discarded
      host.tls_pending = false;
      session.on_tls_ready();
      progressed = true;
    }
    if (host.password_pending) {
      host.password_pending = false;
      if (flags & 4) {
        session.on_password_checked(core::make_error(core::Errc::io, "fuzz"));
      } else {
        session.on_password_checked(host.password_ok);
      }
      progressed = true;
    }
    if (host.maildrop_pending) {
      host.maildrop_pending = false;
      session.on_maildrop_opened(host.snapshot());
      progressed = true;
    }
    if (host.update_pending) {
      host.update_pending = false;
      session.on_updated(flags & 8 ? core::Result<void>(core::make_error(core::Errc::full, "f"))
                                   : core::Result<void>());
      progressed = true;
    }
    if (!session.wants_input() && host.budget == 0 && !host.closed) {
      host.budget = 64;
      session.on_drain();
      progressed = true;
    }
    if (host.closed || host.ended) break;
    if (!progressed && at >= input.size()) break;
  }
  if (!host.ended) session.on_disconnect();
  require(host.ended == 1);
  check_transcript(host);
  return 0;
}
