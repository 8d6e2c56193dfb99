#!/usr/bin/env python3
"""Collecting from a second postern: postern A serves POP3, postern B collects from it.

Mail reaches A over SMTP (smtplib); B collects A's mailboxes over plain POP3 on loopback
(explicitly allowed; A takes loopback logins without TLS). Checked: B collects every mail;
B stopped, more mail sent to A, B started and collecting again: each mail exactly once;
kill -9 B in the middle of a large run, B started again: each mail exactly once; A still
holds every mail (leave on the server); `postern collect now` prints its progress line; over
POP3S, A's self-signed certificate is reported with its fingerprint and nothing collected,
and once pinned (`postern collect pin`) the account collects.
Usage: collect_peer_e2e.py POSTERN_BINARY
"""
import hashlib
import os
import poplib
import re
import signal
import smtplib
import subprocess
import sys

from harness import Checks, Postern, wait_for

REMOTE_PASSWORD = "peer-password-1"


def message(tag, n, size=800):
    body = (f"{tag} {n} payload line " * 6 + "\r\n") * max(1, size // 130)
    return (f"From: sender@example.com\r\nTo: {tag}@example.net\r\nSubject: {tag} {n}\r\n"
            f"Message-ID: <{tag}.{n}@example.com>\r\n\r\n.dotted {n}\r\n{body}")


def main():
    binary = sys.argv[1]
    a = Postern(binary)
    b = Postern(binary)
    checks = Checks()
    try:
        a.add_user("small@example.net", REMOTE_PASSWORD)
        a.add_user("big@example.net", REMOTE_PASSWORD)
        a.start()
        b.add_user("alice@example.org", "local-password")
        b.add_user("erin@example.org", "local-password")
        b.add_user("frank@example.org", "local-password")

        def send(to, tag, numbers, size=800):
            with smtplib.SMTP("127.0.0.1", a.ports["smtp"], timeout=60) as s:
                for n in numbers:
                    s.sendmail("sender@example.com", [to], message(tag, n, size))

        def remote_stat(user):
            pop = poplib.POP3("127.0.0.1", a.ports["pop3"], timeout=60)
            pop.user(user)
            pop.pass_(REMOTE_PASSWORD)
            count = pop.stat()[0]
            pop.quit()
            return count

        def add(local, remote):
            out = b.cli("collect", "add", f"{local}@example.org", "--user", remote,
                        "--host", "127.0.0.1", "--tls", "plain", "--allow-plain",
                        "--port", str(a.ports["pop3"]), "--interval", "3600",
                        stdin=REMOTE_PASSWORD + "\n").stdout
            return int(re.search(r"account (\d+)", out).group(1))

        def box(local):
            return b.export().get(f"{local}@example.org", [])

        def exactly_once(local, tag, count):
            ids = sorted(re.search(rb"Message-ID: <([^>]+)>", m).group(1) for m in box(local))
            want = sorted(f"{tag}.{i}@example.com".encode() for i in range(count))
            assert ids == want, f"{local}: {len(ids)} messages, want {count} each once"

        def mails(account):
            text = b.cli("collect", "list").stdout
            block = re.search(rf"^{account} .*?(?=^\d+ |\Z)", text, re.M | re.S)
            m = re.search(r"(\d+) mails", block.group(0)) if block else None
            return int(m.group(1)) if m else 0

        send("small@example.net", "small", range(20))
        small = add("alice", "small@example.net")
        b.start()

        def first():
            wait_for(lambda: mails(small) == 20, 30, "20 mails collected from postern A")
            exactly_once("alice", "small", 20)
            first_copy = box("alice")[0]
            assert b"\r\n.dotted" in first_copy, "dot-unstuffing"
            assert b"collected from account small@example.net@127.0.0.1" in first_copy
        checks.run("B collects every mail A holds", first)

        def restart_again():
            assert b.stop() == 0
            send("small@example.net", "small", range(20, 25))
            b.start()
            out = b.cli("collect", "now", str(small))
            assert "5 collected" in out.stdout, out.stdout
            assert re.search(r"collecting small@example\.net@127\.0\.0\.1: 5/5 mails, \d+\.\d MB", out.stderr), \
                "the progress line: " + out.stderr
            exactly_once("alice", "small", 25)
            assert remote_stat("small@example.net") == 25, "A keeps every mail"
        checks.run("B restarted collects again: each mail exactly once", restart_again)

        def kill_mid_run():
            send("big@example.net", "big", range(400), size=30000)
            big = add("erin", "big@example.net")
            def stored_now():
                line = [l for l in b.cli("user", "list").stdout.splitlines()
                        if l.startswith("erin@example.org")]
                m = re.search(r"\s(\d+)\s", line[0]) if line else None
                return int(m.group(1)) if m else 0
            wait_for(lambda: stored_now() >= 40, 60, "the big run under way, 40 mails stored")
            b.proc.send_signal(signal.SIGKILL)
            b.proc.wait()
            b.proc = None
            stored = len(box("erin"))
            print(f"     {stored} of 400 mails were stored when B was killed")
            assert stored < 400, "the kill came after the run: nothing was interrupted"
            b.start()
            wait_for(lambda: mails(big) >= 1 and len(box("erin")) == 400, 120,
                     f"400 mails after kill -9 ({stored} stored before) and a restart")
            exactly_once("erin", "big", 400)
            assert remote_stat("big@example.net") == 400, "A keeps every mail"
        checks.run("kill -9 B in the middle of a run, restart: each mail exactly once",
                   kill_mid_run)

        def pop3s_pinned():
            send("small@example.net", "small", range(25, 27))
            out = b.cli("collect", "add", "frank@example.org", "--user", "small@example.net",
                        "--host", "127.0.0.1", "--tls", "pop3s", "--port", str(a.ports["pop3s"]),
                        "--interval", "3600", stdin=REMOTE_PASSWORD + "\n").stdout
            tls = int(re.search(r"account (\d+)", out).group(1))
            der = subprocess.run(["openssl", "x509", "-in", os.path.join(a.data, "tls", "cert.pem"),
                                  "-outform", "DER"], check=True, capture_output=True).stdout
            fingerprint = hashlib.sha256(der).hexdigest()
            wait_for(lambda: "certificate not trusted" in b.cli("collect", "list").stdout, 30,
                     "A's self-signed certificate reported")
            assert fingerprint in b.cli("collect", "list").stdout, "the fingerprint is shown"
            assert box("frank") == [], "nothing collected over an untrusted link"
            b.cli("collect", "pin", str(tls), fingerprint)
            out = b.cli("collect", "now", str(tls))
            assert "27 collected" in out.stdout, out.stdout
            exactly_once("frank", "small", 27)
        checks.run("POP3S to A: its certificate reported, then pinned, then collected",
                   pop3s_pinned)

        def nothing_new():
            out = b.cli("collect", "now", str(small))
            assert "2 collected" in out.stdout, out.stdout  # the 2 sent for the POP3S check
            out = b.cli("collect", "now", str(small))
            assert "0 collected" in out.stdout, out.stdout
            exactly_once("alice", "small", 27)
        checks.run("the first account takes the 2 new mails, then finds nothing new",
                   nothing_new)
        checks.closing(b)
    finally:
        a.close()
        b.close()
    checks.finish()


if __name__ == "__main__":
    main()
