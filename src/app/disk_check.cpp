// report_disk_check: the init's e2fsck note in the data folder becomes one event.
#include "app/disk_check.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "app/config.h"
#include "core/log.h"
#include "store/events.h"

namespace postern::app {

void report_disk_check(store::Writer& writer, const core::Clock& clock) {
  std::FILE* f = std::fopen(kDiskCheckNote, "rb");
  if (f == nullptr) return;  // no check changed anything since the last report
  std::string note(2048, '\0');
  note.resize(std::fread(note.data(), 1, note.size(), f));
  std::fclose(f);
  while (!note.empty() && (note.back() == '\n' || note.back() == '\r')) note.pop_back();
  // The note is e2fsck's own words: keep them to one printable line.
  std::string text = "repaired=yes " + core::printable(note, 1000);
  POSTERN_LOG_WARN("app event=disk-check %s", text.c_str());
  const std::int64_t time = core::unix_seconds(clock.now());
  writer.submit<bool>(
      [text, time](store::WriteTxn& txn) -> store::Result<bool> {
        if (auto r = store::append_event(txn, "disk-check", text, time); !r) return r.error();
        return true;
      },
      [](store::Result<bool> done) {
        if (!done) {
          POSTERN_LOG_WARN("app event=disk-check-not-recorded reason=%s",
                           explain(done.error()).c_str());
          return;
        }
        if (::unlink(kDiskCheckNote) != 0) {
          POSTERN_LOG_WARN("app event=disk-check-note-kept file=%s", kDiskCheckNote);
          return;
        }
        POSTERN_LOG_INFO("app event=disk-check-recorded");
      });
}

}  // namespace postern::app
