#!/usr/bin/env python3
"""Deleting collected mail from the server: only what is durable locally, only with QUIT.

A private Dovecot on loopback (as collect_e2e.py; root, exit 77 = skipped) serves two remote
mailboxes through a proxy that can swallow the client's QUIT and cut the link there. The
runs are `postern collect now`, with the collector's clock moved by the test-only
POSTERN_TEST_CLOCK_OFFSET_S (src/collect/clock_override.h), so "N days later" is a number.
Checked, for "delete after 3 days": a run 3 days minus an hour after collecting deletes
nothing; a run after 3 days and an hour whose QUIT is cut deletes nothing (RFC 1939 §6);
the same run with QUIT deletes exactly the mails collected more than 3 days before, not the
ones collected since, and never a mail that was not stored locally (larger than the size
limit). For "delete once collected": a cut QUIT leaves the server untouched though the mails
are stored, and the next run deletes them without storing them twice.
Usage: collect_delete_e2e.py POSTERN_BINARY
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from collect_e2e import PASSWORD, Dovecot, add_remote, make_ca, message, remote_count
from forwarder import Forwarder
from harness import Checks, Postern, scaled

DAY = 86400
HOUR = 3600


class QuitCutter(Forwarder):
    """Forwards to Dovecot; while `cut_quit` is set, a client's QUIT ends the link unsent."""

    def __init__(self, target_port):
        self.cut_quit = False
        super().__init__(target_port)

    def upstream(self, data, link):
        if self.cut_quit and re.search(rb"(^|\n)QUIT\r\n", data):
            return b"", True
        return data, False


def remote_ids(maildirs, user):
    box = os.path.join(maildirs, user)
    ids = []
    for sub in ("new", "cur"):
        for name in os.listdir(os.path.join(box, sub)):
            with open(os.path.join(box, sub, name), "rb") as f:
                ids.append(re.search(rb"Message-ID: <([^>]+)>", f.read()).group(1).decode())
    return sorted(ids)


def main():
    if os.geteuid() != 0 or shutil.which("dovecot") is None or \
            not os.path.exists("/usr/lib/dovecot/pop3"):
        print("SKIP: needs root and the dovecot-core, dovecot-pop3d packages")
        sys.exit(77)
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="postern-collect-delete-")
    os.chmod(work, 0o755)
    make_ca(work)
    maildirs = os.path.join(work, "maildirs")
    users = ["days@example.net", "once@example.net"]
    for user in users:
        add_remote(maildirs, user, [])
    add_remote(maildirs, "days@example.net",
               [message("days", i) for i in range(4)] + [message("days-big", 0, 70000)])
    add_remote(maildirs, "once@example.net", [message("once", i) for i in range(5)])
    dovecot = Dovecot(work, maildirs, users)
    proxy = QuitCutter(dovecot.port)
    server = Postern(binary, {"max_message_bytes": 65536})
    checks = Checks()
    try:
        server.add_user("carol@example.org", "local-password")
        server.add_user("dave@example.org", "local-password")

        def add(local, remote, keep):
            out = server.cli("collect", "add", f"{local}@example.org", "--user", remote,
                             "--host", "127.0.0.1", "--tls", "plain", "--allow-plain",
                             "--port", str(proxy.port), "--keep", keep, "--interval", "3600",
                             stdin=PASSWORD + "\n").stdout
            return int(re.search(r"account (\d+)", out).group(1))

        def run_at(account, offset):
            """`postern collect now ACCOUNT` with the collector's clock `offset` s ahead."""
            env = dict(os.environ, POSTERN_TEST_CLOCK_OFFSET_S=str(offset))
            r = subprocess.run([binary, "collect", "now", str(account), "--data", server.data],
                               env=env, capture_output=True, text=True, timeout=scaled(120))
            m = re.search(r"(\d+) collected, (\d+) deleted on the server", r.stdout)
            assert m, f"no run summary: {r.stdout} {r.stderr}"
            return int(m.group(1)), int(m.group(2)), r

        def local_ids(local):
            got = server.export().get(f"{local}@example.org", [])
            return sorted(re.search(rb"Message-ID: <([^>]+)>", m).group(1).decode() for m in got)

        days = add("carol", "days@example.net", "3d")
        once = add("dave", "once@example.net", "delete")

        def first_run():
            fetched, deleted, r = run_at(days, 0)
            assert (fetched, deleted) == (4, 0), r.stdout
            assert "larger than the size limit" in r.stdout, r.stdout
            assert remote_count(maildirs, "days@example.net") == 5
        checks.run("day 0: 4 mails collected, the one over the size limit left, none deleted",
                   first_run)

        def not_yet():
            add_remote(maildirs, "days@example.net", [message("days", i) for i in (4, 5)])
            fetched, deleted, r = run_at(days, 3 * DAY - HOUR)
            assert (fetched, deleted) == (2, 0), r.stdout
            assert remote_count(maildirs, "days@example.net") == 7
        checks.run("3 days minus an hour later: the new mails collected, nothing deleted",
                   not_yet)

        def cut_quit():
            proxy.cut_quit = True
            cuts = proxy.cuts
            fetched, deleted, r = run_at(days, 3 * DAY + HOUR)
            proxy.cut_quit = False
            assert proxy.cuts == cuts + 1, "the QUIT was not cut"
            assert (fetched, deleted) == (0, 0), r.stdout
            assert r.returncode != 0, "a run without QUIT's reply reports a failure"
            assert remote_count(maildirs, "days@example.net") == 7, "deleted without QUIT"
        checks.run("3 days and an hour later, QUIT cut: nothing deleted", cut_quit)

        def due_deleted():
            fetched, deleted, r = run_at(days, 3 * DAY + HOUR)
            assert (fetched, deleted) == (0, 4), r.stdout
            assert remote_ids(maildirs, "days@example.net") == \
                ["days-big.0@example.com", "days.4@example.com", "days.5@example.com"], \
                remote_ids(maildirs, "days@example.net")
            assert local_ids("carol") == [f"days.{i}@example.com" for i in range(6)], \
                local_ids("carol")
        checks.run("with QUIT: exactly the 4 mails collected over 3 days ago are deleted",
                   due_deleted)

        def later_still():
            fetched, deleted, r = run_at(days, 6 * DAY)
            assert (fetched, deleted) == (0, 2), r.stdout
            assert remote_ids(maildirs, "days@example.net") == ["days-big.0@example.com"], \
                "a mail never stored locally must stay on the server"
            assert local_ids("carol") == [f"days.{i}@example.com" for i in range(6)]
        checks.run("6 days later: the rest deleted, never the mail not stored locally",
                   later_still)

        def once_cut():
            proxy.cut_quit = True
            fetched, deleted, r = run_at(once, 0)
            proxy.cut_quit = False
            assert (fetched, deleted) == (5, 0), r.stdout
            assert remote_count(maildirs, "once@example.net") == 5, "deleted without QUIT"
            assert local_ids("dave") == [f"once.{i}@example.com" for i in range(5)]
        checks.run("delete once collected, QUIT cut: stored here, still on the server",
                   once_cut)

        def once_deleted():
            fetched, deleted, r = run_at(once, 0)
            assert (fetched, deleted) == (0, 5), r.stdout
            assert remote_count(maildirs, "once@example.net") == 0
            assert local_ids("dave") == [f"once.{i}@example.com" for i in range(5)], \
                "each mail exactly once"
        checks.run("the next run deletes them, and stores none twice", once_deleted)
    finally:
        proxy.close()
        server.close()
        dovecot.stop()
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
