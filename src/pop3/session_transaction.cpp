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

// RFC 1939 §5 LIST and §7 UIDL. A listing is proportional to the maildrop (about 25 octets
// a message, 2.5 MB for 100 000), so it is streamed like a message body: batches of
// kListingBatchBytes while net accepts more, resumed by on_drain() (see pump_listing()).
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
  return start_listing(false, replies::list_follows(stats.count, stats.octets));
}

Reply Session::on_uidl(std::string_view args) {
  const std::vector<std::string_view> words = split_args(args);
  if (words.size() > 1) return replies::syntax("UIDL [message number]");
  if (words.size() == 1) {
    const std::optional<std::uint64_t> number = parse_number(words[0]);
    if (!number) return replies::syntax("UIDL [message number]");
    if (auto refused = check_message(*number)) return *refused;
    return replies::unique_id_listing(*number, maildrop_.entry(*number).unique_id.view());
  }
  return start_listing(true, replies::uidl_follows());
}

namespace {

// One batch of a listing: big enough that a listing costs few writes, small enough that a
// batch is built in well under a millisecond on a router's CPU.
constexpr std::size_t kListingBatchBytes = 16 * 1024;

void append_number(std::string& out, std::uint64_t n) {
  char digits[20];
  std::size_t len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (len > 0) out += digits[--len];
}

}  // namespace

// `head` is the multi-line reply's status line (its `lines` are not used).
Reply Session::start_listing(bool unique_ids, const Reply& head) {
  listing_.emplace(Listing{unique_ids, 1});
  waiting_ = Waiting::stream;
  Reply status = head;
  status.multiline = false;  // the body and the terminator follow from emit_listing()
  std::string out = status.render();
  if (emit_listing(out)) return replies::none();
  pump_listing();
  return replies::none();
}

// Appends scan or unique-id lines (RFC 1939 §5, §7) for messages not marked deleted, up to
// about kListingBatchBytes, and sends them; at the end, adds the terminator and ends the
// listing. No line starts with '.', so nothing needs byte-stuffing. Returns true when the
// listing ended.
bool Session::emit_listing(std::string& out) {
  Listing& listing = *listing_;
  const std::uint64_t last = maildrop_.size();
  while (listing.next <= last && out.size() < kListingBatchBytes) {
    const std::uint64_t n = listing.next++;
    if (maildrop_.deleted(n)) continue;
    const MessageEntry& entry = maildrop_.entry(n);
    append_number(out, n);
    out += ' ';
    if (listing.unique_ids) {
      out += entry.unique_id.view();
    } else {
      append_number(out, entry.size);
    }
    out += "\r\n";
  }
  const bool complete = listing.next > last;
  if (complete) out += ".\r\n";
  host_.send(std::move(out));
  if (!complete) return false;
  listing_.reset();
  waiting_ = Waiting::nothing;
  return true;
}

// Sends batch after batch while net accepts more; resumed by on_drain().
void Session::pump_listing() {
  while (listing_ && host_.can_send_more()) {
    std::string out;
    if (emit_listing(out)) return;
  }
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
  host_.send(std::move(out));
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
  if (listing_) {
    pump_listing();
  } else {
    pump();
  }
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
