#!/usr/bin/env python3
"""deb_serve_check.py: run the packaged unit's command line as its user and move one mail through it.

Usage (inside `unshare -n`, as root): deb_serve_check.py CHROOT "EXEC_START"
Starts EXEC_START in CHROOT as user postern with CAP_NET_BIND_SERVICE as its only
capability (what the unit's User= and AmbientCapabilities= give), waits for the ready
line, sends a mail to bob@example.org on port 25, reads it back over POP3 on port 110,
checks the process's user and capabilities, and stops it with SIGTERM.
"""
import os
import poplib
import shlex
import signal
import smtplib
import subprocess
import sys
import threading

TIMEOUT = 60 * float(os.environ.get("POSTERN_TEST_TIMEOUT_MULTIPLIER", "1") or 1)
CAP_NET_BIND_SERVICE = 1 << 10


def main() -> int:
    root, exec_start = sys.argv[1], sys.argv[2]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    command = ["chroot", root, "setpriv", "--reuid=postern", "--regid=postern", "--init-groups",
               "--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service",
               "--bounding-set=-all,+net_bind_service", "--no-new-privs"] + shlex.split(exec_start)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
    stderr_lines = []
    threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True).start()
    ready = {}

    def read_ready():
        for line in proc.stdout:
            if line.startswith("postern ready"):
                ready["line"] = line.strip()
                return

    reader = threading.Thread(target=read_ready, daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    try:
        if "line" not in ready:
            print("no ready line; stderr:\n" + "".join(stderr_lines), file=sys.stderr)
            return 1
        print(ready["line"])
        status = open(f"/proc/{proc.pid}/status").read()
        uid_line = next(l for l in status.splitlines() if l.startswith("Uid:"))
        cap_eff = int(next(l for l in status.splitlines() if l.startswith("CapEff:")).split()[1], 16)
        expected_uid = subprocess.run(["chroot", root, "id", "-u", "postern"], capture_output=True,
                                      text=True, check=True).stdout.strip()
        if uid_line.split()[1] != expected_uid or cap_eff & ~CAP_NET_BIND_SERVICE:
            print(f"runs as {uid_line!r} with CapEff={cap_eff:#x}", file=sys.stderr)
            return 1

        body = "Subject: from the deb test\r\n\r\nDelivered by the packaged postern.\r\n"
        with smtplib.SMTP("127.0.0.1", 25, timeout=TIMEOUT) as smtp:
            smtp.sendmail("someone@example.net", ["bob@example.org"], body)
        pop = poplib.POP3("127.0.0.1", 110, timeout=TIMEOUT)
        pop.user("bob@example.org")
        pop.pass_("deb-test-password")
        count, _ = pop.stat()
        lines = pop.retr(1)[1] if count == 1 else []
        pop.quit()
        if b"Delivered by the packaged postern." not in lines:
            print(f"POP3 gave {count} messages: {lines!r}", file=sys.stderr)
            return 1
        print("mail in over SMTP :25 and out over POP3 :110 as user postern, CapEff=net_bind_service")
        return 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            print("postern did not stop on SIGTERM", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
