// Session, TRANSACTION state (RFC 1939 §5, §7): STAT, LIST, RETR, TOP, DELE, NOOP, RSET, UIDL.
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "pop3/args.h"
#include "pop3/session.h"

namespace postern::pop3 {

// RFC 1939 §7: a message number that does not exist, or is marked deleted, is an error.
std::optional<Reply> Session::check_message(std::uint64_t number) const {
  switch (maildrop_.find(number)) {
    case MaildropView::Lookup::ok:
      return std::nullopt;
    case MaildropView::Lookup::no_such_message:
      return replies::no_such_message(number);
    case MaildropView::Lookup::deleted:
      return replies::message_deleted(number);
  }
  return replies::no_such_message(number);
}

Reply Session::on_stat(std::string_view args) {
  if (!split_args(args).empty()) return replies::syntax("STAT");
  const DropStats stats = maildrop_.stats();
  return replies::stat(stats.count, stats.octets);
}

// A whole listing is built in memory: it is bounded by the maildrop's message count (a few
// dozen octets per message), unlike a message body, which is streamed.
Reply Session::on_list(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  if (words.size() > 1) return replies::syntax("LIST [message number]");
  if (words.size() == 1) {
    const std::optional<std::uint64_t> number = parse_number(words[0]);
    if (!number) return replies::syntax("LIST [message number]");
    if (auto refused = check_message(*number)) return *refused;
    return replies::scan_listing(*number, maildrop_.entry(*number).size);
  }
  const DropStats stats = maildrop_.stats();
  Reply reply = replies::list_follows(stats.count, stats.octets);
  for (std::uint64_t n = 1; n <= maildrop_.size(); ++n) {
    if (maildrop_.deleted(n)) continue;
    reply.lines.push_back(std::to_string(n) + " " + std::to_string(maildrop_.entry(n).size));
  }
  return reply;
}

Reply Session::on_uidl(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  if (words.size() > 1) return replies::syntax("UIDL [message number]");
  if (words.size() == 1) {
    const std::optional<std::uint64_t> number = parse_number(words[0]);
    if (!number) return replies::syntax("UIDL [message number]");
    if (auto refused = check_message(*number)) return *refused;
    return replies::unique_id_listing(*number, maildrop_.entry(*number).unique_id);
  }
  Reply reply = replies::uidl_follows();
  for (std::uint64_t n = 1; n <= maildrop_.size(); ++n) {
    if (maildrop_.deleted(n)) continue;
    reply.lines.push_back(std::to_string(n) + " " + maildrop_.entry(n).unique_id);
  }
  return reply;
}

Reply Session::on_retr(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  const std::optional<std::uint64_t> number =
      words.size() == 1 ? parse_number(words[0]) : std::nullopt;
  if (!number) return replies::syntax("RETR <message number>");
  if (auto refused = check_message(*number)) return *refused;
  return start_stream(*number, std::nullopt);
}

Reply Session::on_top(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  if (words.size() != 2) return replies::syntax("TOP <message number> <lines>");
  const std::optional<std::uint64_t> number = parse_number(words[0]);
  const std::optional<std::uint64_t> lines = parse_number(words[1]);
  if (!number || !lines) return replies::syntax("TOP <message number> <lines>");
  if (auto refused = check_message(*number)) return *refused;
  return start_stream(*number, lines);
}

// The first chunk is read before "+OK", so a store failure can still be a clean
// "-ERR [SYS/TEMP]"; later failures can only end the session (see pump()).
Reply Session::start_stream(std::uint64_t number, std::optional<std::uint64_t> top_lines) {
  const MessageEntry& entry = maildrop_.entry(number);
  core::Result<std::string> first = host_.read_message_chunk(entry, 0);
  if (!first) {
    POSTERN_LOG_WARN("pop3 %s event=read-failed message=%llu error=%s where=%s",
                     peer_.session_id.c_str(), static_cast<unsigned long long>(entry.key),
                     core::to_string(first.error().code), first.error().where);
    return replies::temporary_failure();
  }
  stream_.emplace(Stream{entry, number, 1, DotStuffer(top_lines)});
  waiting_ = Waiting::stream;
  std::string out =
      (top_lines ? replies::top_follows() : replies::retr_follows(entry.size)).render();
  if (emit_chunk(first.value(), out)) return replies::none();
  pump();
  return replies::none();
}

// Stuffs one chunk into `out` and sends it; when the message is complete (empty chunk, or
// the TOP limit), adds the terminator, records a retrieval if the whole message went out
// (RETR, or a TOP whose limit covered it all: fetchmail downloads with "TOP n 99999999"),
// and ends the stream. Returns true when the stream ended.
bool Session::emit_chunk(std::string_view chunk, std::string& out) {
  Stream& stream = *stream_;
  const bool complete = chunk.empty() || stream.stuffer.append(chunk, out);
  if (complete) stream.stuffer.finish(out);
  host_.send(out);
  if (!complete) return false;
  if (stream.stuffer.consumed() == stream.message.size) maildrop_.mark_retrieved(stream.number);
  stream_.reset();
  waiting_ = Waiting::nothing;
  return true;
}

// Streams chunk after chunk while net accepts more; resumed by on_drain(). Only one chunk
// is ever held. A read failure after "+OK" cannot be reported in-band (the client would
// take an -ERR line as message text), so the session ends and the connection closes: the
// missing terminator tells the client the message is incomplete.
void Session::pump() {
  while (stream_ && host_.can_send_more()) {
    core::Result<std::string> chunk =
        host_.read_message_chunk(stream_->message, stream_->next_chunk);
    if (!chunk) {
      POSTERN_LOG_WARN("pop3 %s event=read-failed message=%llu chunk=%zu error=%s where=%s",
                       peer_.session_id.c_str(),
                       static_cast<unsigned long long>(stream_->message.key), stream_->next_chunk,
                       core::to_string(chunk.error().code), chunk.error().where);
      end(EndReason::store_error, true);
      return;
    }
    ++stream_->next_chunk;
    std::string out;
    if (emit_chunk(chunk.value(), out)) return;
  }
}

void Session::on_drain() {
  if (waiting_ != Waiting::stream || connection_gone_) return;
  pump();
}

Reply Session::on_dele(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  const std::optional<std::uint64_t> number =
      words.size() == 1 ? parse_number(words[0]) : std::nullopt;
  if (!number) return replies::syntax("DELE <message number>");
  if (auto refused = check_message(*number)) return *refused;
  maildrop_.mark_deleted(*number);  // RFC 1939 §6: removed only in UPDATE
  return replies::dele_done(*number);
}

Reply Session::on_noop(std::string_view args) {
  if (!split_args(args).empty()) return replies::syntax("NOOP");
  return replies::ok();
}

Reply Session::on_rset(std::string_view args) {
  if (!split_args(args).empty()) return replies::syntax("RSET");
  maildrop_.reset_deleted();
  const DropStats stats = maildrop_.stats();
  return replies::rset_done(stats.count, stats.octets);
}

}  // namespace postern::pop3
