// Maildir export/import: streaming chunk copies out, spool-less deliveries in.
#include "store/maildir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <tuple>
#include <vector>

#include "store/body_key.h"
#include "store/catalogue.h"
#include "store/delivery.h"
#include "store/mailbox.h"
#include "store/password.h"
#include "store/sha256.h"
#include "store/stored_form.h"

namespace fs = std::filesystem;

namespace postern::store {
namespace {

Error sys_error(const char* where, int e) {
  return core::make_error(e == ENOSPC || e == EDQUOT ? Errc::full : Errc::io, where, e);
}

Result<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t w = ::write(fd, bytes.data(), bytes.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return sys_error("maildir-write", errno);
    bytes.remove_prefix(static_cast<std::size_t>(w));
  }
  return {};
}

std::string export_name(const MessageInfo& m) {
  char name[128];
  std::snprintf(name, sizeof name, "%lld.P%s.postern,S=%llu:2,%s",
                static_cast<long long>(m.received_at), uidl(m.unique_id).c_str(),
                static_cast<unsigned long long>(m.size), (m.flags & kFlagRetrieved) ? "S" : "");
  return name;
}

// Streams one message's chunks into tmp/, fsyncs, renames into cur/.
Result<void> export_message(const Env& env, const fs::path& box, const MessageInfo& m) {
  const std::string name = export_name(m);
  const fs::path tmp = box / "tmp" / name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return sys_error("maildir-create", errno);
  Result<void> r;
  {
    auto txn = env.begin_read();  // one message, one short snapshot
    if (!txn) r = txn.error();
    const std::uint32_t count = chunk_count_for(m.size);
    for (std::uint32_t n = 0; r && n < count; ++n) {
      auto chunk = txn->get(Db::chunks, chunk_key(m.body, n));
      if (!chunk) {
        r = core::make_error(Errc::corrupt, "maildir-chunk");
        break;
      }
      r = write_all(fd, *chunk);
    }
  }
  if (r && ::fsync(fd) != 0) r = sys_error("maildir-fsync", errno);
  ::close(fd);
  if (r && ::rename(tmp.c_str(), (box / "cur" / name).c_str()) != 0) {
    r = sys_error("maildir-rename", errno);
  }
  if (!r) ::unlink(tmp.c_str());
  return r;
}

struct ImportItem {
  std::string address;
  std::string path;
  std::int64_t received_at = 0;
  std::uint64_t unique_id = 0;  // 0: foreign, allocate
  std::uint8_t flags = 0;
};

// "<received>.P<16 hex>.postern,S=<size>:2,<flags>": ours; anything else is foreign.
void parse_name(const std::string& name, ImportItem& item) {
  std::size_t info = name.find(":2,");
  if (info != std::string::npos && name.find('S', info + 3) != std::string::npos) {
    item.flags |= kFlagRetrieved;
  }
  long long received = 0;
  char hex[17] = {};
  unsigned long long size = 0;
  int used = 0;
  if (std::sscanf(name.c_str(), "%lld.P%16[0-9a-f].postern,S=%llu%n", &received, hex, &size,
                  &used) == 3 &&
      std::string_view(hex).size() == 16) {
    item.received_at = received;
    item.unique_id = std::strtoull(hex, nullptr, 16);
  }
}

// Reads a file in kChunkBytes pieces through LineEnds, calling fn(converted piece).
template <class Fn>
Result<void> read_converted(const std::string& path, LineEnds& lines, Fn&& fn) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("maildir-open", errno);
  std::string buf(kChunkBytes, '\0');
  std::string out;
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      ::close(fd);
      return sys_error("maildir-read", e);
    }
    if (r == 0) break;
    out.clear();
    lines.convert(std::string_view(buf.data(), static_cast<std::size_t>(r)), out);
    if (auto w = fn(std::string_view(out)); !w) {
      ::close(fd);
      return w;
    }
  }
  ::close(fd);
  return fn(lines.finish());
}

// The body of one Maildir file in the stored form (stored_form.h): Unix Maildir files end
// lines with a bare LF, which POP3 must send as CRLF (RFC 1939 §3), and the listed size must
// be what RETR sends (§11). A file already in the stored form (our own export) is used as it
// is, streamed from the file inside the write txn; otherwise the converted bytes go to memory
// (one chunk or less) or to a file in the spool folder, which the caller removes
// (`converted_path`). Either way the file is never held in memory whole.
Result<SpooledBody> body_of(const std::string& path, const std::string& spool_dir,
                            std::string& converted_path) {
  BodyKeyHasher hasher;
  SpooledBody body;
  LineEnds lines;
  auto hashed = read_converted(path, lines, [&](std::string_view piece) -> Result<void> {
    hasher.update(piece);
    body.size += piece.size();
    return {};
  });
  if (!hashed) return hashed.error();
  body.hash = hasher.finish().key;
  if (!lines.changed()) {
    body.path = path;
    return body;
  }
  // Second pass: the converted bytes, hashed again, so the hash and size are of what is
  // stored even if the file changed in between.
  const bool small = body.size <= kChunkBytes;
  int out = -1;
  if (!small) {
    std::string tmpl = spool_dir + "/import-XXXXXX";
    out = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (out < 0) return sys_error("maildir-convert", errno);
    converted_path = tmpl;
    body.path = tmpl;
  }
  BodyKeyHasher stored;
  body.size = 0;
  LineEnds again;
  auto r = read_converted(path, again, [&](std::string_view piece) -> Result<void> {
    stored.update(piece);
    body.size += piece.size();
    if (small) {
      body.memory.append(piece);
      return {};
    }
    return write_all(out, piece);
  });
  if (out >= 0 && ::close(out) != 0 && r) r = sys_error("maildir-convert", errno);
  if (!r) return r.error();
  body.hash = stored.finish().key;
  return body;
}

Result<void> ensure_user(WriteTxn& txn, const std::string& address) {
  if (find_user(txn, address)) return {};
  if (!find_domain(txn, domain_of(address))) {
    if (auto d = add_domain(txn, domain_of(address)); !d) return d.error();
  }
  auto u = add_user(txn, address, kUnusablePassword);
  if (!u) return u.error();
  return {};
}

}  // namespace

Result<MaildirStats> export_maildir(const Env& env, const std::string& dir,
                                    const MaildirProgress& progress) {
  std::vector<std::pair<std::string, std::vector<MessageInfo>>> boxes;
  std::uint64_t total = 0;
  {
    auto txn = env.begin_read();
    if (!txn) return txn.error();
    auto users = list_users(*txn);
    if (!users) return users.error();
    for (const auto& u : *users) {
      auto messages = list_messages(*txn, u.mailbox_id);
      if (!messages) return messages.error();
      total += messages->size();
      boxes.emplace_back(u.address, std::move(*messages));
    }
  }
  MaildirStats stats;
  std::uint64_t done = 0;
  for (const auto& [address, messages] : boxes) {
    const fs::path box = fs::path(dir) / address;
    std::error_code ec;
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(box / sub, ec);
    if (ec) return sys_error("maildir-mkdir", ec.value());
    ++stats.mailboxes;
    for (const MessageInfo& m : messages) {
      if (auto r = export_message(env, box, m); !r) return r.error();
      ++stats.messages;
      stats.bytes += m.size;
      if (progress) progress(++done, total);
    }
  }
  return stats;
}

Result<MaildirStats> import_maildir(Env& env, const std::string& dir,
                                    const MaildirProgress& progress) {
  std::vector<ImportItem> items;
  std::error_code ec;
  MaildirStats stats;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    auto address = normalize_address(entry.path().filename().string());
    if (!address) continue;
    ++stats.mailboxes;
    for (const char* sub : {"cur", "new"}) {
      std::error_code sub_ec;
      for (const auto& file : fs::directory_iterator(entry.path() / sub, sub_ec)) {
        if (!file.is_regular_file()) continue;
        ImportItem item;
        item.address = *address;
        item.path = file.path().string();
        struct stat st;
        if (::stat(item.path.c_str(), &st) == 0) item.received_at = st.st_mtime;
        parse_name(file.path().filename().string(), item);
        items.push_back(std::move(item));
      }
    }
  }
  if (ec) return sys_error("maildir-list", ec.value());
  // Restored unique ids ascending first (each must be >= the sequence), then
  // foreign files; within a mailbox, older mail gets the lower uid.
  std::sort(items.begin(), items.end(), [](const ImportItem& a, const ImportItem& b) {
    if ((a.unique_id == 0) != (b.unique_id == 0)) return a.unique_id != 0;
    if (a.unique_id != b.unique_id) return a.unique_id < b.unique_id;
    return std::tie(a.received_at, a.path) < std::tie(b.received_at, b.path);
  });

  constexpr std::size_t kBatchMessages = 100;
  constexpr std::uint64_t kBatchBytes = 16u << 20;
  const std::uint64_t total = items.size();
  std::size_t i = 0;
  while (i < items.size()) {
    std::size_t first = i;
    std::uint64_t batch_bytes = 0;
    std::vector<std::string> converted;  // spool files of this batch, removed after it
    auto r = run_write(env, [&](WriteTxn& txn) -> Result<void> {
      for (i = first; i < items.size() && i - first < kBatchMessages && batch_bytes < kBatchBytes;
           ++i) {
        const ImportItem& item = items[i];
        if (auto u = ensure_user(txn, item.address); !u) return u;
        std::string converted_path;
        auto body = body_of(item.path, env.spool_dir(), converted_path);
        if (!converted_path.empty()) converted.push_back(converted_path);
        if (!body) return body.error();
        DeliveryRequest req;
        req.body = std::move(*body);
        req.recipients.push_back(Recipient{item.address, std::nullopt});
        req.received_at = item.received_at;
        req.flags = item.flags;
        req.unique_id = item.unique_id;
        auto outcome = deliver(txn, req);
        if (!outcome) return outcome.error();
        batch_bytes += req.body.size;
      }
      return {};
    });
    for (const std::string& path : converted) ::unlink(path.c_str());
    if (!r) return r.error();
    stats.bytes += batch_bytes;
    for (std::size_t k = first; k < i; ++k) {
      ++stats.messages;
      if (progress) progress(stats.messages, total);
    }
  }
  return stats;
}

}  // namespace postern::store
