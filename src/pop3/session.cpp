// Session: line framing, the dispatcher, state transitions, completions and session ends.
#include "pop3/session.h"

#include <utility>

#include "core/log.h"
#include "pop3/args.h"
#include "pop3/commands.h"

namespace postern::pop3 {

const char* to_string(State state) noexcept {
  switch (state) {
    case State::authorization:
      return "authorization";
    case State::sasl_response:
      return "sasl-response";
    case State::transaction:
      return "transaction";
    case State::update:
      return "update";
    case State::closed:
      return "closed";
  }
  return "unknown";
}

const char* to_string(EndReason reason) noexcept {
  switch (reason) {
    case EndReason::quit:
      return "quit";
    case EndReason::update_failed:
      return "update-failed";
    case EndReason::disconnect:
      return "disconnect";
    case EndReason::timeout:
      return "timeout";
    case EndReason::error_limit:
      return "error-limit";
    case EndReason::store_error:
      return "store-error";
    case EndReason::wrong_protocol:
      return "wrong-protocol";
    case EndReason::line_flood:
      return "line-flood";
  }
  return "unknown";
}

Session::Session(Host& host, const Limits& limits, const core::Clock& clock, Peer peer)
    : host_(host),
      limits_(limits),
      clock_(clock),
      peer_(std::move(peer)),
      started_(clock.now()),
      framer_(core::LineRules{core::LineEnding::crlf_or_lf, limits_.max_discarded_bytes}) {
  send(replies::greeting(limits_.greeting_host));
}

bool Session::wants_input() const {
  return waiting_ == Waiting::nothing && state_ != State::closed && !connection_gone_;
}

// Framing (core::LineFramer). RFC 1939 §3 ends commands with CRLF; a bare LF is accepted
// too, as popa3d does (its DESIGN names this its one deviation): client to server POP3
// carries only commands, never relayed content, so the leniency smuggles nothing (unlike
// SMTP DATA), and it helps scripts typing at the port. A control byte anywhere else in the
// line is refused. Length (RFC 2449 §4): a line is answered "-ERR Line too long" as soon
// as it crosses the limit; its octets are then consumed (never buffered) up to its LF, and
// at Limits::max_discarded_bytes of them the connection closes.
std::size_t Session::feed(std::string_view bytes) {
  std::size_t consumed = 0;
  while (consumed < bytes.size() && wants_input()) {
    const std::size_t limit =
        state_ == State::sasl_response ? limits_.max_auth_line : limits_.max_line;
    const core::LineFramer::Piece piece = framer_.next(bytes.substr(consumed), limit);
    if (piece.kind == core::LineFramer::Kind::incomplete) break;  // the caller keeps it
    consumed += piece.consumed;
    switch (piece.kind) {
      case core::LineFramer::Kind::incomplete:
      case core::LineFramer::Kind::discarded:
        break;
      case core::LineFramer::Kind::too_long:
        refuse_long_line();
        break;
      case core::LineFramer::Kind::flood:
        POSTERN_LOG_INFO("pop3 %s event=line-flood discarded=%zu", peer_.session_id.c_str(),
                         framer_.discarded());
        end(EndReason::line_flood, true);
        consumed = bytes.size();  // the connection closes: the rest of the flood is dropped
        break;
      case core::LineFramer::Kind::bad_ending:  // not with LineEnding::crlf_or_lf
      case core::LineFramer::Kind::control_byte:
        refuse_control_byte();
        break;
      case core::LineFramer::Kind::line:
        handle_line(piece.text);
        break;
    }
  }
  return consumed;
}

void Session::refuse_long_line() {
  if (state_ == State::sasl_response) enter(State::authorization);  // RFC 5034 §4
  respond(replies::line_too_long());
}

namespace {

// Another protocol on the POP3 port (ALPACA; Postfix's smtpd_forbidden_commands): an HTTP
// request line, or a header line ("Host: ..."), whose first word no POP3 verb can be.
bool looks_like_http(std::string_view line) {
  const std::string_view verb = line.substr(0, line.find(' '));
  if (verb.find(':') != std::string_view::npos) return true;
  for (std::string_view method :
       {"GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE", "PATCH", "TRACE"}) {
    if (equals_ignore_case(verb, method)) return true;
  }
  return false;
}

}  // namespace

// RFC 1939 §3: keywords and arguments are printable. A NUL or an escape sequence in a user
// name must never reach a lookup, a log line or the page.
void Session::refuse_control_byte() {
  if (state_ == State::sasl_response) enter(State::authorization);
  respond(replies::bad_characters());
}

void Session::handle_line(std::string_view line) {
  if (state_ == State::sasl_response) {
    on_sasl_response(line);
    return;
  }
  if (looks_like_http(line)) {
    // One reply, no echo, and the connection closes: nothing an HTTP client sends next is
    // worth answering line by line.
    POSTERN_LOG_INFO("pop3 %s event=wrong-protocol peer=%s", peer_.session_id.c_str(),
                     peer_.address.c_str());
    send(replies::wrong_protocol());
    end(EndReason::wrong_protocol, true);
    return;
  }
  dispatch(line);
}

// The table lists the legal states; a wrong-state verb is answered here, once, so every
// handler may assume its state.
void Session::dispatch(std::string_view line) {
  const std::size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view args =
      space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  const Command* command = find_command(verb);
  if (command == nullptr) {
    POSTERN_LOG_DEBUG("pop3 %s event=unknown-command verb=%s", peer_.session_id.c_str(),
                      core::printable(verb, 16).c_str());
    respond(replies::unknown_command());
    return;
  }
  if (!command->legal.contains(state_)) {
    respond(replies::wrong_state(command->verb, state_ == State::transaction));
    return;
  }
  Reply reply = (this->*command->handler)(args);
  if (reply.kind != Reply::Kind::none) respond(reply);
  // The close that goes with the reply (QUIT): Host::close() closes once it is written.
  if (reply.close_after) end(EndReason::quit, true);
}

// Counts -ERR replies; the one that reaches Limits::max_errors is replaced by a reply that
// says the connection is closing, so each command still gets exactly one reply.
void Session::respond(const Reply& reply) {
  if (reply.is_error() && ++errors_ >= limits_.max_errors) {
    send(replies::too_many_errors());
    POSTERN_LOG_INFO("pop3 %s event=error-limit errors=%zu", peer_.session_id.c_str(), errors_);
    end(EndReason::error_limit, true);
    return;
  }
  send(reply);
}

void Session::send(const Reply& reply) {
  if (connection_gone_) return;
  host_.send(reply.render());
}

void Session::enter(State next) {
  POSTERN_LOG_DEBUG("pop3 %s event=state from=%s to=%s", peer_.session_id.c_str(),
                    to_string(state_), to_string(next));
  state_ = next;
}

bool Session::plaintext_allowed() const {
  return peer_.tls_active || peer_.loopback || limits_.allow_plaintext_login;
}

void Session::end(EndReason reason, bool close_connection) {
  if (ended_) return;
  ended_ = true;
  stream_.reset();
  listing_.reset();
  waiting_ = Waiting::nothing;
  SessionSummary summary;
  summary.user = authenticated_ ? user_ : std::string();
  summary.authenticated = authenticated_;
  summary.reason = reason;
  summary.retrieved = maildrop_.retrieved_count();
  summary.marked_deleted = maildrop_.deleted_count();
  summary.removed = removed_;
  summary.duration = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - started_);
  POSTERN_LOG_INFO(
      "pop3 %s event=end reason=%s abnormal=%d user=%s retrieved=%zu deleted=%zu "
      "removed=%zu",
      peer_.session_id.c_str(), to_string(reason), summary.abnormal() ? 1 : 0,
      core::printable(summary.user).c_str(), summary.retrieved, summary.marked_deleted,
      summary.removed);
  enter(State::closed);
  host_.session_ended(summary);
  if (close_connection && !connection_gone_) {
    connection_gone_ = true;
    host_.close();
  }
}

void Session::on_updated(core::Result<void> outcome) {
  if (waiting_ != Waiting::update) return;
  waiting_ = Waiting::nothing;
  const bool gone = connection_gone_;
  if (outcome) {
    removed_ = maildrop_.deleted_count();
    send(replies::signing_off(maildrop_.size() - removed_));
    end(EndReason::quit, !gone);
  } else {
    POSTERN_LOG_WARN("pop3 %s event=update-failed error=%s where=%s", peer_.session_id.c_str(),
                     core::to_string(outcome.error().code), outcome.error().where);
    send(replies::update_failed());
    end(EndReason::update_failed, !gone);
  }
}

void Session::on_tls_ready() {
  if (waiting_ != Waiting::tls || connection_gone_) return;
  waiting_ = Waiting::nothing;
  // RFC 2595 §4: discard knowledge obtained from the client before TLS.
  peer_.tls_active = true;
  pending_user_.reset();
  framer_.reset();
  POSTERN_LOG_DEBUG("pop3 %s event=tls-ready", peer_.session_id.c_str());
}

void Session::on_timeout() {
  if (ended_) return;
  if (waiting_ == Waiting::update) {
    // The commit is in flight and cannot be recalled: close now, report its outcome when
    // on_updated() arrives.
    connection_gone_ = true;
    host_.close();
    return;
  }
  end(EndReason::timeout, true);  // RFC 1939 §3: no reply, no UPDATE
}

void Session::on_disconnect() {
  if (ended_) return;
  connection_gone_ = true;
  if (waiting_ == Waiting::update) return;  // reported by on_updated()
  end(EndReason::disconnect, false);
}

}  // namespace postern::pop3
