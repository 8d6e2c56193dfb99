// smtp::Session: framing, the dispatcher, message events and completions (see session.h).
#include "smtp/session.h"

#include <algorithm>

#include "core/log.h"
#include "smtp/syntax.h"
#include "smtp/trace.h"

namespace postern::smtp {

const char* to_string(AbortReason reason) noexcept {
  switch (reason) {
    case AbortReason::too_big:
      return "too_big";
    case AbortReason::bad_line_ending:
      return "bad_line_ending";
    case AbortReason::connection_lost:
      return "connection_lost";
    case AbortReason::timeout:
      return "timeout";
    case AbortReason::reset:
      return "reset";
  }
  return "unknown";
}

const char* to_string(RecipientVerdict verdict) noexcept {
  switch (verdict) {
    case RecipientVerdict::accept:
      return "accept";
    case RecipientVerdict::unknown_user:
      return "unknown_user";
    case RecipientVerdict::relay_denied:
      return "relay_denied";
    case RecipientVerdict::over_quota:
      return "over_quota";
    case RecipientVerdict::temp_failure:
      return "temp_failure";
  }
  return "unknown";
}

Session::Session(Host& host, const Limits& limits, const core::Clock& clock, Peer peer)
    : host_(host),
      limits_(limits),
      clock_(clock),
      peer_(std::move(peer)),
      framer_(core::LineRules{core::LineEnding::crlf, limits_.max_discarded_command_bytes}) {
  POSTERN_LOG_DEBUG("smtp %s event=connect peer=%s tls=%d", peer_.session_id.c_str(),
                    core::printable(peer_.address).c_str(), peer_.tls_active ? 1 : 0);
  answer(replies::greeting(limits_.hostname));
}

const char* Session::name(State state) {
  switch (state) {
    case State::connected:
      return "connected";
    case State::ready:
      return "ready";
    case State::mail:
      return "mail";
    case State::rcpt:
      return "rcpt";
    case State::data:
      return "data";
    case State::bdat:
      return "bdat";
    case State::committing:
      return "committing";
    case State::tls_pending:
      return "tls-pending";
    case State::closed:
      return "closed";
  }
  return "unknown";
}

const char* Session::state_name() const {
  return name(state_);
}

void Session::enter(State next) {
  POSTERN_LOG_DEBUG("smtp %s event=state from=%s to=%s", peer_.session_id.c_str(), name(state_),
                    name(next));
  state_ = next;
}

bool Session::wants_input() const {
  return state_ != State::committing && state_ != State::tls_pending && state_ != State::closed;
}

std::chrono::seconds Session::current_timeout() const {
  if (state_ == State::closed) return std::chrono::seconds{0};
  // §4.5.3.2.6: the client waits this long for our reply to the final dot; a
  // commit slower than that is lost to it anyway.
  if (state_ == State::committing) return limits_.timeout_data_termination;
  if (framing_ == Framing::data_body || framing_ == Framing::chunk) {
    return limits_.timeout_data_block;  // §4.5.3.2.5
  }
  return limits_.timeout_command;  // §4.5.3.2.7
}

void Session::dispatch(std::string_view line) {
  if (state_ == State::connected || state_ == State::ready) {
    if (++commands_without_mail_ > limits_.max_commands_before_mail) {
      POSTERN_LOG_INFO("smtp %s event=close reason=too-many-commands", peer_.session_id.c_str());
      close_with(replies::too_many_commands(limits_.hostname));
      return;
    }
  }
  CommandLine command = split_command(line);
  auto table = commands();
  auto it = std::find_if(table.begin(), table.end(), [&](const Command& c) {
    return equals_ignore_case(c.verb, command.verb);
  });
  if (it == table.end()) {
    POSTERN_LOG_DEBUG("smtp %s event=unknown-command verb=%s", peer_.session_id.c_str(),
                      core::printable(command.verb, 16).c_str());
    answer(replies::unknown_command());
    return;
  }
  if (!it->legal.contains(state_)) {
    Reply refusal = replies::bad_sequence(what_to_do());
    auto chunk = it->carries_chunk ? parse_bdat(command.args) : std::nullopt;
    if (chunk) {
      start_chunk(chunk->size, chunk->last, std::move(refusal));  // answered after the chunk
    } else {
      answer(refusal);
    }
    return;
  }
  answer((this->*(it->handler))(command.args));
  // RFC 3207 §4: the 220 to STARTTLS goes out in the clear, then the handshake starts.
  if (state_ == State::tls_pending) host_.start_tls();
}

std::string_view Session::what_to_do() const {
  switch (state_) {
    case State::connected:
      return "send EHLO or HELO first";
    case State::ready:
      return "send MAIL FROM first";
    case State::mail:
      return "send RCPT TO first, or RSET";
    case State::rcpt:
      return "send more RCPT TO, then DATA or BDAT, or RSET";
    case State::bdat:
      return "send the next BDAT chunk, or RSET";
    default:
      return "wait for the previous reply";
  }
}

void Session::answer(const Reply& reply) {
  if (reply.empty()) return;
  host_.send(reply.wire());
  if (reply.close_after) {
    // Host::close() closes once the reply is written; nothing more is read.
    framing_ = Framing::line;
    enter(State::closed);
    host_.close();
    return;
  }
  if (!reply.peer_fault || state_ == State::closed) return;
  if (++errors_ >= limits_.max_errors) {
    POSTERN_LOG_INFO("smtp %s event=close reason=too-many-errors errors=%zu",
                     peer_.session_id.c_str(), errors_);
    close_with(replies::too_many_errors(limits_.hostname));
  }
}

// The session's own decision to end it (timeouts, limits, a fatal store error): not a
// handler's reply, so it is sent here, as one that closes.
void Session::close_with(const Reply& reply, AbortReason reason) {
  abort_message(reason);  // a message under way (between BDAT chunks) ends here
  tx_.reset();
  Reply closing = reply;
  closing.close_after = true;
  answer(closing);
}

// --- The message body -------------------------------------------------------

void Session::begin_message(bool via_bdat) {
  tx_->envelope.via_bdat = via_bdat;
  tx_->message_id = peer_.session_id + "." + std::to_string(++messages_);
  TraceInfo info;
  info.hostname = limits_.hostname;
  info.peer_address = peer_.address;
  info.message_id = tx_->message_id;
  info.esmtp = esmtp_;
  info.tls = peer_.tls_active;
  info.when = clock_.now();
  host_.message_begin(tx_->envelope, trace_headers(tx_->envelope, info));
  tx_->body = Transaction::Body::open;
}

void Session::body(std::string_view unstuffed) {
  if (tx_ && tx_->body == Transaction::Body::open) host_.message_data(unstuffed);
}

void Session::abort_message(AbortReason reason) {
  if (!tx_ || tx_->body != Transaction::Body::open) return;
  tx_->body = Transaction::Body::aborted;
  POSTERN_LOG_INFO("smtp %s event=message-aborted id=%s reason=%s", peer_.session_id.c_str(),
                   tx_->message_id.c_str(), to_string(reason));
  host_.message_abort(reason);
}

// The message will be refused at its end; stop storing it now.
void Session::fail_message(AbortReason reason) {
  if (!tx_->failure) tx_->failure = reason;
  abort_message(reason);
}

void Session::finish_transaction(State next) {
  tx_.reset();
  enter(next);
}

std::size_t Session::feed_data(std::string_view rest) {
  DataReader::Step step = tx_->data->feed(rest, *this);
  if (auto failure = tx_->data->failure()) fail_message(*failure);
  if (step.finished) end_of_data();
  return step.consumed;
}

void Session::end_of_data() {
  framing_ = Framing::line;
  if (!tx_->failure) {
    tx_->body = Transaction::Body::ended;
    enter(State::committing);
    host_.message_end();
    return;
  }
  Reply reply = *tx_->failure == AbortReason::too_big ? replies::too_big(limits_.max_message_bytes)
                                                      : replies::bad_line_ending();
  finish_transaction(State::ready);
  answer(reply);
}

// --- BDAT chunks (RFC 3030) ------------------------------------------------------

void Session::start_chunk(std::uint64_t size, bool last, Reply refusal) {
  framing_ = Framing::chunk;
  chunk_remaining_ = size;
  chunk_size_ = size;
  chunk_last_ = last;
  chunk_refusal_ = std::move(refusal);
  if (chunk_refusal_.empty() && !tx_->failure &&
      tx_->bdat_octets + size > limits_.max_message_bytes) {
    fail_message(AbortReason::too_big);  // known before a single octet arrives
  }
  if (size == 0) finish_chunk();
}

std::size_t Session::feed_chunk(std::string_view rest) {
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_remaining_, rest.size()));
  if (chunk_refusal_.empty() && tx_->body == Transaction::Body::open) {
    for (std::string_view piece = rest.substr(0, n); !piece.empty();) {
      std::string_view part = piece.substr(0, DataReader::kMaxChunk);
      host_.message_data(part);
      piece.remove_prefix(part.size());
    }
  }
  chunk_remaining_ -= n;
  if (chunk_remaining_ == 0) finish_chunk();
  return n;
}

void Session::finish_chunk() {
  framing_ = Framing::line;
  if (!chunk_refusal_.empty()) {
    Reply refusal = std::move(chunk_refusal_);
    chunk_refusal_ = Reply{};
    answer(refusal);
    return;
  }
  tx_->bdat_octets += chunk_size_;
  if (tx_->failure) {
    // RFC 3030 §3: every BDAT gets a reply; the client must RSET after a
    // failure, and one failed message counts as one error however many chunks follow.
    Reply reply = replies::too_big(limits_.max_message_bytes);
    reply.peer_fault = !tx_->failure_counted;
    tx_->failure_counted = true;
    if (chunk_last_) finish_transaction(State::ready);
    answer(reply);
    return;
  }
  if (chunk_last_) {
    tx_->body = Transaction::Body::ended;
    enter(State::committing);
    host_.message_end();
    return;
  }
  answer(replies::chunk_received(chunk_size_));
}

// --- Completions ---------------------------------------------------------------

void Session::on_committed(core::Result<void> outcome) {
  if (state_ != State::committing) {
    POSTERN_LOG_DEBUG("smtp %s event=late-commit state=%s", peer_.session_id.c_str(), state_name());
    return;
  }
  std::string id = tx_->message_id;
  finish_transaction(State::ready);
  if (outcome) {
    POSTERN_LOG_INFO("smtp %s event=message-queued id=%s", peer_.session_id.c_str(), id.c_str());
    answer(replies::queued(id));
    return;
  }
  // The glue that ran the delivery has logged the failure (event=delivery-failed).
  const core::Error& error = outcome.error();
  answer(replies::commit_failed(error));
  // DESIGN.md "When things fail": after a fatal store error no new transaction starts.
  if (error.code == core::Errc::fatal) close_with(replies::local_error_closing(limits_.hostname));
}

void Session::on_tls_ready() {
  if (state_ != State::tls_pending) return;
  peer_.tls_active = true;
  helo_.clear();
  esmtp_ = false;
  tx_.reset();
  enter(State::connected);
}

void Session::on_timeout() {
  close_quietly_mid_handshake("timeout", replies::timeout(limits_.hostname), AbortReason::timeout);
}

bool Session::awaiting_command() const {
  static constexpr StateSet kAwaiting{State::connected, State::ready, State::mail, State::rcpt,
                                      State::tls_pending};
  return kAwaiting.contains(state_) && framing_ == Framing::line && !framer_.discarding();
}

void Session::on_evicted() {
  close_quietly_mid_handshake("evicted", replies::busy_idle_closed(limits_.hostname),
                              AbortReason::reset);
}

// A timeout or an eviction: `goodbye` and close, but mid-handshake only the close, as a
// plaintext 421 would only corrupt the TLS stream.
void Session::close_quietly_mid_handshake(const char* event, const Reply& goodbye,
                                          AbortReason reason) {
  if (state_ == State::closed) return;
  POSTERN_LOG_INFO("smtp %s event=%s state=%s", peer_.session_id.c_str(), event, state_name());
  if (state_ == State::tls_pending) {
    enter(State::closed);
    host_.close();
    return;
  }
  close_with(goodbye, reason);
}

void Session::on_disconnect() {
  if (state_ == State::closed) return;
  POSTERN_LOG_DEBUG("smtp %s event=disconnect state=%s", peer_.session_id.c_str(), state_name());
  abort_message(AbortReason::connection_lost);
  tx_.reset();
  enter(State::closed);
}

}  // namespace postern::smtp
