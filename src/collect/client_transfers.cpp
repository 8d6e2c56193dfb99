// The POP3 client session's transfer phase (RFC 1939 §5, §6): the host's plan,
// RETR one message at a time with at most max_pending_deliveries awaiting their
// local commit, DELE only for what is durable locally, then QUIT; and the
// header digest used when a server has no UIDL.
#include <algorithm>
#include <cctype>

#include "collect/client_session.h"
#include "core/log.h"

namespace postern::collect {

void ClientSession::next_top() {
  if (top_index_ >= listing_.entries.size()) return start_transfers();
  enter(State::top_status);
  command("TOP " + std::to_string(listing_.entries[top_index_].number) + " 0");
}

void ClientSession::start_transfers() {
  outcome_.listed = listing_.entries.size();
  outcome_.uid_from_headers = listing_.uid_from_headers;
  if (stat_count_ != listing_.entries.size()) {
    POSTERN_LOG_WARN("collect session event=stat-list-mismatch stat=%zu list=%zu", stat_count_,
                     listing_.entries.size());
  }
  plan_ = host_.plan(listing_);
  for (std::size_t i : plan_.remove) {
    if (i < listing_.entries.size()) to_delete_.push_back(i);
  }
  enter(State::waiting);
  next_step();
}

void ClientSession::next_step() {
  if (state_ != State::waiting) return;
  if (!to_delete_.empty()) {
    const std::size_t i = to_delete_.front();
    to_delete_.erase(to_delete_.begin());
    enter(State::dele);
    return command("DELE " + std::to_string(listing_.entries[i].number));
  }
  const bool more = !stop_fetching_ && next_fetch_ < plan_.fetch.size();
  if (more && in_commit_.size() < limits_.max_pending_deliveries) {
    fetching_ = plan_.fetch[next_fetch_++];
    if (fetching_ >= listing_.entries.size()) return next_step();
    enter(State::retr_status);
    return command("RETR " + std::to_string(listing_.entries[fetching_].number));
  }
  if (more || !in_commit_.empty()) return;  // wait for on_delivered
  enter(State::quit);
  quit_sent_ = true;
  command("QUIT");
}

void ClientSession::on_delivered(core::Result<void> result) {
  if (in_commit_.empty() || state_ == State::done) return;
  const std::size_t i = in_commit_.front();
  in_commit_.erase(in_commit_.begin());
  if (result) {
    ++outcome_.fetched;
    outcome_.bytes += listing_.entries[i].size;
    if (plan_.remove_after_fetch) to_delete_.push_back(i);
  } else if (!stop_fetching_) {
    // The rest stays on the server for the next run; what is durable may still go.
    stop_fetching_ = true;
    outcome_.failure = Failure::store;
    outcome_.detail = core::to_string(result.error().code);
  }
  next_step();
}

std::string ClientSession::filter_headers(std::string_view headers) {
  // Fields that mailbox servers rewrite as a message is read (mbox status
  // keeping: Status, X-Status, X-Keywords, X-UID, X-IMAP*, Content-Length).
  static constexpr std::string_view kVolatile[] = {
      "STATUS:", "X-STATUS:", "X-KEYWORDS:", "X-UID:", "X-IMAP", "CONTENT-LENGTH:"};
  std::string out;
  bool skipping = false;
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t nl = headers.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? headers.size() : nl + 1;
    std::string_view line = headers.substr(pos, end - pos);
    pos = end;
    const bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (!continuation) {
      std::string head(line.substr(0, 16));
      for (char& c : head) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      skipping = std::any_of(std::begin(kVolatile), std::end(kVolatile),
                             [&](std::string_view v) { return head.rfind(v, 0) == 0; });
    }
    if (!skipping) out.append(line);
  }
  return out;
}

}  // namespace postern::collect
