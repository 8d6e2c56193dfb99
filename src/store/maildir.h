// Export to and import from standard Maildir folders, for `postern export
// --maildir DIR` and `postern import --maildir DIR`. Synchronous: the CLI runs
// these, the server never does.
//
// Layout: DIR/<address>/{cur,new,tmp}/, one file per message, the body byte
// for byte. Exported names are "<received>.P<unique id hex>.postern,S=<size>:2,<flags>"
// in cur/ (flags "S" once retrieved), written to tmp/ and renamed (the Maildir
// delivery protocol). The "partial" flag has no Maildir letter and is not kept.
// Import stores each file in the stored form (store/stored_form.h): a bare LF
// becomes CRLF and a missing final line end is added, so a Unix Maildir (LF
// lines) is listed and retrieved over POP3 with the same sizes; a file already
// in that form, such as our own export, is stored byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "store/env.h"

namespace postern::store {

using MaildirProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct MaildirStats {
  std::uint64_t mailboxes = 0;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
};

// Every user's mailbox; one short read txn per message (never a long reader).
Result<MaildirStats> export_maildir(const Env& env, const std::string& dir,
                                    const MaildirProgress& progress = {});

// Walks DIR/<address>/{cur,new}: creates missing domains and users (password
// "!", unusable until set), keeps the received time, the retrieved flag and,
// for our own names, the unique id when it was never allocated in this store;
// foreign files get the file's mtime and a new unique id. Directories whose
// name is not an address are skipped. Messages are committed in batches.
Result<MaildirStats> import_maildir(Env& env, const std::string& dir,
                                    const MaildirProgress& progress = {});

}  // namespace postern::store
