// The firmware's file-system check at boot, as an event: the init runs e2fsck before
// mounting the data disk and, when the check changed something, leaves its summary in
// the data folder; postern records it once so the status page can say so.
#pragma once

#include "core/clock.h"
#include "store/writer.h"

namespace postern::app {

// Name of the note, relative to the data folder (serve.cpp works inside it). Written by
// firmware/image/init as one line of key=value text: "at=<unix seconds> status=<e2fsck's
// exit status> summary=<its output>".
inline constexpr const char* kDiskCheckNote = "fsck-last.txt";

// If the note is there, logs it and appends a "disk-check" event with its text; the
// note is removed once the event is committed, so each check is reported once (a
// failed write leaves it for the next start). Loop thread; borrows writer and clock.
void report_disk_check(store::Writer& writer, const core::Clock& clock);

}  // namespace postern::app
