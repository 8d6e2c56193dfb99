#!/usr/bin/env python3
"""firmware/image/power_cut_test.py: pulls the plug on a postern image under qemu, again and again, on one disk.

Run through firmware/image/power-cut-test.sh, which builds the image and passes
the target's emulator settings. On ONE data disk (blank at the start: the init
formats it ext4 with a journal on the first boot), --kills times:

 1. boot; wait for "postern ready" (the init has run e2fsck -p on the disk,
    replaying the journal the last cut left);
 2. verify: over POP3 (STLS) every message that ever got a 250 is there exactly
    once and byte-exact (what the client sent, after the trace fields postern
    prepends), no message is there twice, and every message seen on an earlier
    boot keeps its UIDL; `postern status --check` (the init's test control
    port, "check") is clean;
 3. send mail from the host over SMTP (python smtplib, two sessions, a bounded
    count per boot), recording which messages got a 250;
 4. at a random moment after the sending started (seeded: --seed, printed),
    SIGKILL the qemu-system process itself: no shutdown, no sync, everything in
    the guest's RAM is gone, as when the plug is pulled.
Then a last boot verifies once more and powers off cleanly. Last, with the
host's debugfs (e2fsprogs), one block in use by the store is marked free on the
powered-off disk, and the file system as having errors: the next boot's e2fsck -p must repair it (status 1), postern
must record a "disk-check" event, and the mail must still all be there. What qemu had
written to the disk image file survives a SIGKILL of qemu (the host's page
cache keeps it), so the guest meets a disk that kept every write it had handed
over, up to the cut: a disk without a volatile write cache.

Prints per boot and at the end "acknowledged=N found=N duplicated=N lost=N"
and "N passed, M failed". Waits are bounded and scaled by
POSTERN_TEST_TIMEOUT_MULTIPLIER.
"""

import argparse
import os
import poplib
import random
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from boot_test import PASSWORD, USER, Machine, scaled

FROM = "sender@example.net"
# What postern puts in front of a delivered message (smtp/trace.cpp).
TRACE = re.compile(rb"\A(?:(?:Return-Path|Received|Delivered-To):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)*")
MARKER = re.compile(rb"^X-Power-Cut: (\S+)\r$", re.M)


def make_message(rng, marker):
    """A message in wire form (CRLF, no bare CR or LF), with lines that need dot-stuffing."""
    lines = [
        f"From: Power Cut <{FROM}>",
        f"To: <{USER}>",
        f"Subject: power cut {marker}",
        f"Message-ID: <{marker}@example.net>",
        f"X-Power-Cut: {marker}",
        "",
    ]
    for n in range(rng.randint(1, 400)):
        width = rng.randint(0, 76)
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 .,-") for _ in range(width))
        if n % 17 == 3:
            text = "." + text  # dot-stuffed on the wire, must come back with one dot
        lines.append(text)
    lines.append(f"end of {marker}")
    return ("\r\n".join(lines) + "\r\n").encode()


def mailbox(port, timeout):
    """Every message over POP3 + STLS as {uidl: bytes}, in wire form; deletes nothing."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the device's self-signed certificate
    client = poplib.POP3("127.0.0.1", port, timeout=scaled(timeout))
    try:
        client.stls(context)
        client.user(USER)
        client.pass_(PASSWORD)
        _, listing, _ = client.uidl()
        messages = {}
        for entry in listing:
            number, uidl = entry.split()
            _, lines, _ = client.retr(int(number))  # poplib removes the dot-stuffing
            if uidl in messages:
                raise AssertionError(f"UIDL {uidl!r} names two messages")
            messages[uidl] = b"".join(line + b"\r\n" for line in lines)
        return messages
    finally:
        try:
            client.quit()
        except (poplib.error_proto, OSError):
            client.close()


class Sender(threading.Thread):
    """One SMTP session sending its share of a boot's messages until told to stop or cut off."""

    def __init__(self, port, messages, acknowledged, lock, stop):
        super().__init__(daemon=True)
        self.port, self.messages = port, messages
        self.acknowledged, self.lock, self.stop = acknowledged, lock, stop
        self.error = None

    def run(self):
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=scaled(120)) as smtp:
                for marker, data in self.messages:
                    if self.stop.is_set():
                        return
                    refused = smtp.sendmail(FROM, [USER], data)
                    if not refused:  # sendmail raises unless DATA got a 2xx
                        with self.lock:
                            self.acknowledged[marker] = data
        except (OSError, smtplib.SMTPException) as error:
            self.error = error  # the plug was pulled mid-session: expected


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--board", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--machine", required=True)
    parser.add_argument("--mem", type=int, required=True)
    parser.add_argument("--console", required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--disk-mb", type=int, default=64)
    parser.add_argument("--kills", type=int, default=10, help="power cuts on the one disk")
    parser.add_argument("--seed", type=int, default=None, help="for the kill moments and messages")
    parser.add_argument("--per-boot", type=int, default=400, help="at most this many messages per boot")
    parser.add_argument("--max-delay", type=float, default=8.0,
                        help="kill at most this many seconds (not scaled) after sending starts")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (console logs, disk)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    print(f"power-cut {args.target}: seed={seed} kills={args.kills} (rerun with --seed {seed})", flush=True)

    work = tempfile.mkdtemp(prefix=f"postern-power-cut-{args.target}-")
    disk = os.path.join(work, "data.img")
    with open(disk, "wb") as f:
        f.truncate(args.disk_mb << 20)

    results = []
    acknowledged = {}  # marker -> the bytes that got a 250
    uidls = {}  # marker -> its UIDL when first seen
    lock = threading.Lock()
    totals = {}

    def check(name, ok, detail=""):
        results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'}: {name}{(' - ' + detail) if detail else ''}", flush=True)
        return ok

    def verify(machine, label):
        stored = mailbox(machine.ports["pop3"], 300)
        by_marker = {}
        for uidl, data in stored.items():
            found = MARKER.search(data)
            key = found.group(1).decode() if found else f"(no marker, UIDL {uidl.decode()})"
            by_marker.setdefault(key, []).append((uidl, data))
        with lock:
            acked = dict(acknowledged)
        duplicated = sorted(k for k, v in by_marker.items() if len(v) > 1)
        lost, altered = [], []
        for marker, sent in acked.items():
            copies = by_marker.get(marker, [])
            if not copies:
                lost.append(marker)
            elif any(not (d.endswith(sent) and TRACE.match(d).end() == len(d) - len(sent)) for _, d in copies):
                altered.append(marker)
        moved = [m for m, v in by_marker.items() if m in uidls and v[0][0] != uidls[m]]
        for marker, copies in by_marker.items():
            uidls.setdefault(marker, copies[0][0])
        found = sum(1 for m in acked if m in by_marker)
        extra = sum(1 for m in by_marker if m not in acked)
        totals.update(acknowledged=len(acked), found=found, duplicated=len(duplicated), lost=len(lost),
                      unacknowledged_stored=extra)
        print(f"power-cut {label}: acknowledged={len(acked)} found={found} duplicated={len(duplicated)} "
              f"lost={len(lost)} altered={len(altered)} uidl_changed={len(moved)} "
              f"stored_without_250={extra} messages={len(stored)}", flush=True)
        check(f"{label}: every acknowledged message is there", not lost, " ".join(lost[:5]))
        check(f"{label}: no message is there twice", not duplicated, " ".join(duplicated[:5]))
        check(f"{label}: every acknowledged message is byte-exact", not altered, " ".join(altered[:5]))
        check(f"{label}: UIDLs are unchanged", not moved, " ".join(moved[:5]))
        answer = machine.control("check")
        check(f"{label}: postern status --check is clean",
              answer.startswith("check status=0 ") and "check=ok" in answer, answer[:300])

    started = time.monotonic()
    machine = None
    try:
        for boot in range(args.kills + 1):
            label = f"boot {boot + 1}"
            log = os.path.join(work, f"console-{boot + 1}.log")
            machine = Machine(args, disk, log)
            machine.console.wait_for(r"^postern ready .*$", 600)
            print(f"figure {label.replace(' ', '_')}_to_ready_s={time.monotonic() - machine.started:.1f}",
                  flush=True)
            text = machine.console.text()
            checked = re.search(r"^postern image: data disk checked dev=\S+ status=(\d+)", text, re.M)
            if boot == 0:
                check(f"{label}: the blank disk is formatted ext4", "first boot: formatting" in text)
            else:
                check(f"{label}: e2fsck -p checked the disk and it could be mounted", checked is not None,
                      f"e2fsck status={checked.group(1)}" if checked else "no check line")
            verify(machine, label)
            if boot == args.kills:
                check("the machine powers off after the last check", machine.power_off())
                break
            # ---- send, and pull the plug somewhere in the middle -----------------
            messages = []
            for n in range(args.per_boot):
                marker = f"pc{seed}-b{boot + 1}-m{n}"
                messages.append((marker, make_message(rng, marker)))
            delay = rng.uniform(0.2, args.max_delay)
            stop = threading.Event()
            senders = [Sender(machine.ports["smtp"], messages[i::2], acknowledged, lock, stop) for i in range(2)]
            before = len(acknowledged)
            for sender in senders:
                sender.start()
            time.sleep(delay)  # the random moment of the cut; not a synchronisation
            machine.process.kill()  # SIGKILL to qemu-system itself
            machine.process.wait()
            stop.set()
            for sender in senders:
                sender.join(scaled(150))
            print(f"power-cut {label}: plug pulled {delay:.2f} s after sending started; "
                  f"{len(acknowledged) - before} of {len(messages)} messages got a 250 "
                  f"({', '.join(type(s.error).__name__ for s in senders if s.error) or 'no session cut'})",
                  flush=True)
        # ---- a damaged file system: e2fsck repairs it, the page says so ----------
        debugfs = shutil.which("debugfs") or shutil.which("/sbin/debugfs")
        if not debugfs:
            print("SKIP: the repair boot - no debugfs on the host (apt-get install e2fsprogs)", flush=True)
        elif not results or all(ok for _, ok, _ in results):
            blocks = subprocess.run([debugfs, "-R", "blocks /postern/data.mdb", disk], capture_output=True,
                                    text=True, check=True).stdout.split()
            check("the store's file is on the disk", bool(blocks), f"{len(blocks)} blocks")
            # A block in use marked free, and the file system marked as having errors,
            # as the kernel does when it meets such damage: e2fsck -p checks a disk
            # marked clean no further than its superblock.
            for request in (f"freeb {blocks[0]}", "ssv state 2"):
                subprocess.run([debugfs, "-w", "-R", request, disk], capture_output=True, check=True)
            label = "repair boot"
            machine = Machine(args, disk, os.path.join(work, "console-repair.log"))
            machine.console.wait_for(r"^postern ready .*$", 600)
            text = machine.console.text()
            checked = re.search(r"^postern image: data disk checked dev=\S+ status=(\d+)", text, re.M)
            check(f"{label}: e2fsck -p repairs the freed block", checked is not None and checked.group(1) == "1",
                  f"status={checked.group(1) if checked else 'none'}")
            machine.console.wait_for(r"^postern: app event=disk-check repaired=yes .*$", 120)
            # Logged once the event is committed and the note removed.
            machine.console.wait_for(r"^postern: app event=disk-check-recorded\r?$", 120)
            events = machine.control("events")
            # `postern events` prints "<time>  disk-check: repaired=yes ..." (the colon is newer).
            check(f"{label}: postern records the repair as an event",
                  re.search(r" disk-check:? repaired=yes ", events) is not None,
                  events[:300])
            verify(machine, label)
            # Reported once: a restarted postern finds no note and records nothing more.
            _, offset = machine.console.wait_for(r"^postern: app event=disk-check-recorded\r?$", 60)
            check(f"{label}: test control kills postern", machine.control("kill").startswith("killed"))
            machine.console.wait_for(r"^postern: app event=ready .*$", 300, after=offset)
            events = machine.control("events")
            check(f"{label}: the repair is reported once", len(re.findall(r" disk-check:? ", events)) == 1,
                  events[:300])
            check("the machine powers off after the repair boot", machine.power_off())
    except (AssertionError, OSError, smtplib.SMTPException, poplib.error_proto,
            subprocess.CalledProcessError) as error:
        check("power-cut test ran to the end", False, f"{type(error).__name__}: {error}")
        if machine:
            print("---- console (last lines) ----\n" + machine.console.tail(60), flush=True)
    finally:
        if machine:
            machine.kill()
        print(f"figure power_cut_total_s={time.monotonic() - started:.1f}", flush=True)
        failed = sum(1 for _, ok, _ in results if not ok)
        if args.keep or failed:
            print(f"power-cut: kept {work}", flush=True)
        else:
            shutil.rmtree(work)

    print(f"power-cut {args.target}: seed={seed} kills={args.kills} "
          + " ".join(f"{k}={v}" for k, v in totals.items()), flush=True)
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"power-cut-test {args.target}: {len(results) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
