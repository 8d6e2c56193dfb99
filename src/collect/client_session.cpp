// The POP3 client session: connection setup, login and listing (RFC 1939,
// RFC 2449, RFC 2595, RFC 5034). The transfers and QUIT: client_transfers.cpp.
#include "collect/client_session.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/log.h"

namespace postern::collect {
namespace {

const char* state_name(int s) {
  static const char* const kNames[] = {
      "greeting",  "capa",    "stls", "auth-plain", "user",     "pass",
      "stat",      "list",    "uidl", "top-status", "top-body", "retr-status",
      "retr-body", "waiting", "dele", "quit",       "done"};
  return kNames[s];
}

std::string base64(std::string_view in) {
  static const char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kTable[v & 63] : '=';
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// "n rest" -> (n, rest); false when malformed.
bool split_numbered(std::string_view line, std::uint64_t& n, std::string_view& rest) {
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  rest = line.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (const std::size_t more = rest.find(' '); more != std::string_view::npos)
    rest = rest.substr(0, more);  // LIST may carry more after the size (RFC 1939 §5)
  return parse_number(line.substr(0, space), n) && n > 0;
}

// RFC 1939 §7: a unique-id is 1 to 70 characters in 0x21-0x7E.
bool valid_uid(std::string_view uid) {
  if (uid.empty() || uid.size() > 70) return false;
  return std::all_of(uid.begin(), uid.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// A response code in brackets (RFC 2449 §8, RFC 3206): "[IN-USE] ...".
bool has_code(std::string_view text, std::string_view code) {
  return text.size() > code.size() + 1 && text.front() == '[' &&
         upper(text.substr(1, code.size())) == code && text[code.size() + 1] == ']';
}

}  // namespace

ClientSession::ClientSession(ClientHost& host, Login login, bool tls_active, ClientLimits limits)
    : host_(host), login_(std::move(login)), limits_(limits), tls_active_(tls_active) {}

void ClientSession::enter(State next) {
  POSTERN_LOG_DEBUG("collect session event=state from=%s to=%s",
                    state_name(static_cast<int>(state_)), state_name(static_cast<int>(next)));
  state_ = next;
}

void ClientSession::command(std::string line) {
  line += "\r\n";
  host_.send(line);
}

void ClientSession::fail(Failure failure, std::string detail) {
  if (state_ == State::done) return;
  outcome_.failure = failure;
  outcome_.detail = core::printable(detail);
  outcome_.deleted = 0;  // RFC 1939 §6: without QUIT's +OK nothing was removed
  enter(State::done);
  host_.finished(outcome_);
}

bool ClientSession::wants_input() const {
  return state_ != State::done && state_ != State::waiting && !tls_pending_;
}

std::size_t ClientSession::feed(std::string_view in) {
  std::size_t used = 0;
  while (used < in.size() && wants_input()) {
    if (state_ == State::retr_body || state_ == State::top_body) {
      const std::size_t n = body_.read(in.substr(used), chunk_);
      used += n;
      if (state_ == State::retr_body) {
        if (!chunk_.empty()) host_.message_data(chunk_);
      } else {
        headers_ += chunk_;
        if (headers_.size() > limits_.max_header_bytes) {
          fail(Failure::protocol, "TOP sent more than the header limit");
          break;
        }
      }
      chunk_.clear();
      if (body_.done()) {
        if (state_ == State::retr_body) {
          host_.message_end();
          in_commit_.push_back(fetching_);
          enter(State::waiting);
          next_step();
        } else {
          listing_.entries[top_index_].uid = "hdr:" + host_.header_digest(filter_headers(headers_));
          ++top_index_;
          next_top();
        }
      } else if (n == 0) {
        break;  // a possible terminator is split: wait for more
      }
      continue;
    }
    const std::size_t nl = in.find('\n', used);
    if (nl == std::string_view::npos) {
      if (in.size() - used > limits_.max_line_bytes) fail(Failure::protocol, "reply line too long");
      break;
    }
    std::string_view line = in.substr(used, nl - used);
    used = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line_bytes) {
      fail(Failure::protocol, "reply line too long");
      break;
    }
    if (in_multiline_) {
      if (!on_list_line(line)) in_multiline_ = false;
      continue;
    }
    Reply reply;
    if (line.substr(0, 3) == "+OK") {
      reply.ok = true;
      line.remove_prefix(3);
    } else if (line.substr(0, 4) == "-ERR") {
      line.remove_prefix(4);
    } else if (state_ == State::auth_plain && line.substr(0, 1) == "+") {
      // RFC 5034 §4: an empty challenge; the server ignored the initial response.
      command(base64(std::string(1, '\0') + login_.user + '\0' + login_.password));
      continue;
    } else {
      fail(Failure::protocol, "unexpected reply: " + std::string(line));
      break;
    }
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    reply.text = std::string(line);
    on_status(reply);
  }
  return used;
}

void ClientSession::on_status(const Reply& reply) {
  switch (state_) {
    case State::greeting:
      if (!reply.ok) return fail(Failure::protocol, "greeting: " + reply.text);
      enter(State::capa);
      return command("CAPA");
    case State::capa:
      if (reply.ok) {
        in_multiline_ = true;  // after_capa() runs at the end of the list
      } else {
        capa_failed_ = true;  // RFC 2449 §5: an old server; go on without it
        after_capa();
      }
      return;
    case State::stls:
      if (!reply.ok) return fail(Failure::no_tls, reply.text);
      tls_pending_ = true;
      host_.start_tls();
      return;
    case State::auth_plain:
    case State::pass:
      if (!reply.ok) {
        return fail(has_code(reply.text, "IN-USE") ? Failure::in_use : Failure::auth, reply.text);
      }
      enter(State::stat);
      return command("STAT");
    case State::user:
      if (!reply.ok) return fail(Failure::auth, reply.text);
      enter(State::pass);
      return command("PASS " + login_.password);
    case State::stat: {
      std::uint64_t count = 0;
      const std::string_view text = reply.text;
      if (!reply.ok || !parse_number(text.substr(0, text.find(' ')), count)) {
        return fail(Failure::protocol, "STAT: " + reply.text);
      }
      stat_count_ = count;
      enter(State::list);
      return command("LIST");
    }
    case State::list:
      if (!reply.ok) return fail(Failure::protocol, "LIST: " + reply.text);
      in_multiline_ = true;
      return;
    case State::uidl:
      if (reply.ok) {
        in_multiline_ = true;
        return;
      }
      // RFC 1939 §7: UIDL is optional. Fall back to a digest of each message's
      // headers, read with TOP n 0, unless CAPA said TOP is missing too.
      if (!capa_failed_ &&
          std::find(capabilities_.begin(), capabilities_.end(), "TOP") == capabilities_.end()) {
        return fail(Failure::no_uidl, reply.text);
      }
      listing_.uid_from_headers = true;
      top_index_ = 0;
      return next_top();
    case State::top_status:
      if (!reply.ok) return fail(Failure::no_uidl, reply.text);
      headers_.clear();
      body_.reset();
      enter(State::top_body);
      return;
    case State::retr_status:
      if (!reply.ok) {
        // Gone since LIST (another client deleted it): collected next run if it returns.
        POSTERN_LOG_WARN("collect session event=retr-refused uid=%s text=%s",
                         core::printable(listing_.entries[fetching_].uid).c_str(),
                         core::printable(reply.text).c_str());
        enter(State::waiting);
        return next_step();
      }
      body_.reset();
      host_.message_begin(listing_.entries[fetching_]);
      enter(State::retr_body);
      return;
    case State::dele:
      if (reply.ok) ++dele_accepted_;
      enter(State::waiting);
      return next_step();
    case State::quit:
      // RFC 1939 §6: +OK means the marked messages are removed; -ERR that some were not.
      outcome_.deleted = reply.ok ? dele_accepted_ : 0;
      if (!reply.ok && outcome_.failure == Failure::none) {
        outcome_.failure = Failure::protocol;
        outcome_.detail = core::printable("QUIT: " + reply.text);
      }
      enter(State::done);
      host_.finished(outcome_);
      return;
    default:
      return fail(Failure::protocol, "unexpected reply: " + reply.text);
  }
}

bool ClientSession::on_list_line(std::string_view line) {
  if (line == ".") {
    if (state_ == State::capa) {
      after_capa();
    } else if (state_ == State::list) {
      enter(State::uidl);
      command("UIDL");
    } else if (state_ == State::uidl) {
      for (const Entry& e : listing_.entries) {
        if (e.uid.empty()) {
          fail(Failure::protocol, "UIDL did not list message " + std::to_string(e.number));
          return false;
        }
      }
      start_transfers();
    }
    return false;
  }
  if (!line.empty() && line.front() == '.') line.remove_prefix(1);  // RFC 1939 §3 stuffing
  if (state_ == State::capa) {
    capabilities_.push_back(upper(line));
    return true;
  }
  std::uint64_t n = 0;
  std::string_view rest;
  if (!split_numbered(line, n, rest)) {
    fail(Failure::protocol, "malformed listing line: " + std::string(line));
    return false;
  }
  if (state_ == State::list) {
    std::uint64_t size = 0;
    if (!parse_number(rest, size)) {
      fail(Failure::protocol, "malformed LIST line: " + std::string(line));
      return false;
    }
    listing_.entries.push_back(Entry{static_cast<std::size_t>(n), size, {}});
    return true;
  }
  // UIDL
  auto it = std::find_if(listing_.entries.begin(), listing_.entries.end(),
                         [&](const Entry& e) { return e.number == n; });
  if (it == listing_.entries.end() || !valid_uid(rest)) {
    fail(Failure::protocol, "malformed UIDL line: " + std::string(line));
    return false;
  }
  it->uid = std::string(rest);
  return true;
}

void ClientSession::after_capa() {
  if (login_.tls == TlsMode::stls && !tls_active_) {
    // RFC 2595 §4: STLS is listed in CAPA. A server that does not answer CAPA
    // may still know STLS, so it is tried; one that lists capabilities without
    // it does not offer TLS, and the password is never sent in the clear.
    if (!capa_failed_ &&
        std::find(capabilities_.begin(), capabilities_.end(), "STLS") == capabilities_.end()) {
      return fail(Failure::no_tls, "");
    }
    enter(State::stls);
    return command("STLS");
  }
  authenticate();
}

void ClientSession::on_tls_ready() {
  tls_pending_ = false;
  tls_active_ = true;
  // RFC 2595 §4: the client MUST discard cached capabilities after STLS.
  capabilities_.clear();
  capa_failed_ = false;
  enter(State::capa);
  command("CAPA");
}

void ClientSession::authenticate() {
  const bool plain = std::any_of(capabilities_.begin(), capabilities_.end(), [](const auto& c) {
    return c.rfind("SASL ", 0) == 0 && (" " + c + " ").find(" PLAIN ") != std::string::npos;
  });
  if (plain) {
    // RFC 5034 §4 with the initial response; RFC 4616 message: authzid NUL authcid NUL passwd.
    enter(State::auth_plain);
    return command("AUTH PLAIN " +
                   base64(std::string(1, '\0') + login_.user + '\0' + login_.password));
  }
  enter(State::user);
  command("USER " + login_.user);
}

void ClientSession::on_connection_lost(Failure why, std::string detail) {
  if (state_ == State::done) return;
  if (state_ == State::quit && why == Failure::network) {
    // The reply to QUIT was lost: the server may or may not have removed the
    // marked messages; either way the local copies are durable.
    POSTERN_LOG_WARN("collect session event=quit-unanswered");
  }
  fail(why, std::move(detail));
}

}  // namespace postern::collect
