// The mailbox view's backend: the owner's password check, pages of message
// summaries, deletion and downloads, over the store (http::Backend's mailbox part).
//
// Loop thread only. Reads are short read txns sized by the page (store/browse.h);
// PBKDF2 runs on the executor and deletions are Writer jobs, never on the loop.
// Borrows `context`, which outlives it (serve() owns everything in it).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/services.h"
#include "http/backend.h"

namespace postern::app {

class MailboxBrowser {
 public:
  explicit MailboxBrowser(ServiceContext& context);

  // As POP3's PASS: an unknown address costs one PBKDF2 derivation against a
  // dummy hash, so the answer does not tell who exists.
  void verify_password(std::string address, std::string password,
                       std::function<void(std::optional<std::string>)> done);
  core::Result<http::MailboxPage, http::Problem> page(const std::string& address,
                                                      std::optional<std::uint32_t> before,
                                                      std::size_t limit);
  void delete_messages(std::string address, std::vector<std::uint32_t> uids,
                       std::function<void(core::Result<std::uint32_t, http::Problem>)> done);
  core::Result<http::MessageDownload, http::Problem> open_message(const std::string& address,
                                                                  std::uint32_t uid);

  // Bytes of a body read for its summary: enough for the header section of
  // real mail (long Received chains, DKIM) and the first lines; at most chunk 0.
  static constexpr std::size_t kHeadBytes = 16 * 1024;
  // Events scanned for "duplicate suppressed" badges per page (time-bounded too).
  static constexpr std::size_t kEventScan = 2000;

 private:
  ServiceContext& context_;
  std::string dummy_hash_;
};

}  // namespace postern::app
