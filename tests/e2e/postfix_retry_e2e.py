"""Dedup end to end with a real sending MTA: Postfix's own retry of a lost 250 leaves one copy.

A private Postfix (tests/bench/anchors/postfix.sh, on loopback, short retry timers) relays
example.org to postern through the lossy proxy (proxy.py). The proxy swallows postern's 250
after end-of-data in the first session and cuts the link: postern has committed the message,
Postfix logs "lost connection ... while sending end of data -- message may be sent more than
once", defers it and, a few seconds later, re-sends it through the proxy, now forwarding
plainly. postern answers the retry 250 (README, "A recognised retry is answered 250 and not
stored again") and logs duplicate-suppressed: bob's mailbox holds exactly one copy.

usage: postfix_retry_e2e.py POSTERN_BINARY
Exit 77 (skipped) without root or the Debian postfix package.
"""
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time

import proxy
from harness import Checks, Postern, scaled, strip_trace, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
POSTFIX_SH = os.path.join(HERE, "..", "bench", "anchors", "postfix.sh")
RCPT = "bob@example.org"
MESSAGE_ID = "pf-retry-1@sender.example"


class FirstSessionLossyProxy(proxy.Proxy):
    """proxy.Proxy in swallow-final-250 mode until its first cut, then plain forwarding.

    Also counts the sessions and the ones whose message data reached its end-of-data line,
    with the monotonic time of each end-of-data. The switch to "forward" happens before the
    first link is cut, i.e. before Postfix can know it must retry: no race with the retry.
    """

    def __init__(self, target_port):
        self.sessions = 0
        self.data_ends = []  # time.monotonic() of each forwarded end-of-data "."
        super().__init__(target_port, "swallow-final-250")

    def _accept_loop(self):
        # proxy.Proxy's loop with our link class; an accept timeout (Postfix waits seconds
        # between tries) keeps listening instead of ending the loop.
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port),
                                                  timeout=scaled(60))
            except OSError:
                client.close()
                continue
            client.settimeout(scaled(60))
            with self.lock:
                self.sessions += 1
            link = _CountingLink(self, client, server)
            threading.Thread(target=link.client_to_server, daemon=True).start()
            threading.Thread(target=link.server_to_client, daemon=True).start()


class _CountingLink(proxy._Link):  # pylint: disable=protected-access
    """proxy's link, reporting each forwarded end-of-data and switching the mode at its cut."""

    def forward_from_client(self, chunk):
        was_in_data = self.in_data
        super().forward_from_client(chunk)
        # A client sends no command between DATA and its 354, so one chunk never holds both
        # the start and the end of message data: in_data falling means "." was forwarded.
        if was_in_data and not self.in_data:
            with self.proxy.lock:
                self.proxy.data_ends.append(time.monotonic())

    def cut_both(self):
        self.proxy.mode = "forward"  # this link's swallow decision is already taken
        super().cut_both()


class PrivatePostfix:
    """One private Postfix instance via postfix.sh; its log is DIR/maillog."""

    def __init__(self, parent, relay_port):
        self.dir = os.path.join(parent, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.port = free_port()
        self.started = False
        self.flushed = False
        transport = f"inline:{{ example.org=smtp:[127.0.0.1]:{relay_port} }}"
        self.settings = [
            # Relay example.org through the proxy instead of postfix.sh's local delivery.
            "myhostname=postfix-retry.localdomain",
            "virtual_mailbox_domains=",
            "relay_domains=example.org",
            f"transport_maps={transport}",
            # Retry within seconds, not Postfix's 300 s / 300 s / 4000 s defaults. The backoff
            # stays above 2 s: queue files carry whole-second mtimes and the delivery agent
            # unlocks the file only after it has told qmgr "deferred"; with a 1 s backoff the
            # next scan can find it still locked, and qmgr then parks it for 60 s ("skipped,
            # still being delivered"; qmgr_active.c). See also unstick() below.
            "queue_run_delay=1s",
            "minimal_backoff_time=3s",
            "maximal_backoff_time=4s",
            "smtp_connect_timeout=5s",
            f"smtp_data_done_timeout={int(scaled(30))}s",
        ]

    def start(self):
        self.started = True  # from here on, stop() must run
        run([POSTFIX_SH, "start", self.dir, str(self.port), *self.settings])

    def inject(self, data):
        """Submits one message over SMTP; returns Postfix's queue id."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=scaled(30)) as client:
            client.ehlo("sender.example")
            code, reply = client.mail("alice@sender.example")
            assert code == 250, reply
            code, reply = client.rcpt(RCPT)
            assert code == 250, reply
            code, reply = client.data(data)
            assert code == 250, reply
        found = re.search(rb"queued as ([0-9A-F]+)", reply)
        assert found, reply
        return found.group(1).decode()

    def unstick(self):
        """If qmgr parked the message for 60 s as "still being delivered", flushes once.

        The race above only shortens, never replaces, Postfix's own retry: `postqueue -f`
        makes qmgr scan its queues now, and the re-send is still Postfix's smtp(8). Returns
        whether it flushed (the test reports it).
        """
        if self.flushed or "skipped, still being delivered" not in self.log():
            return False
        self.flushed = True
        run(["postqueue", "-c", self.etc, "-f"])
        return True

    def queue_empty(self):
        out = run(["postqueue", "-c", self.etc, "-p"]).stdout
        return "Mail queue is empty" in out

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def processes(self):
        """Pids of processes running with this instance's configuration (MAIL_CONFIG)."""
        marker = f"MAIL_CONFIG={self.etc}\0".encode()
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if marker in f.read():
                        pids.append(int(pid))
            except OSError:
                pass  # gone meanwhile, or a kernel thread
        return pids

    def stop(self):
        if self.started:
            self.started = False
            run([POSTFIX_SH, "stop", self.dir], check=False)


def run(argv, check=True):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=scaled(120))
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({result.returncode}): "
                             f"{result.stdout.strip()} {result.stderr.strip()}")
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def skip_reason():
    if os.geteuid() != 0:
        return "the private Postfix needs root (its master starts as root)"
    if shutil.which("postfix") is None or not os.path.exists("/usr/lib/postfix/sbin/master"):
        return "the postfix package is not installed (run .ci/deps test)"
    if shutil.which("ss") is None:
        return "ss (iproute2) is not installed; postfix.sh waits for the listener with it"
    return None


def message():
    return ("From: alice@sender.example\r\n"
            f"To: {RCPT}\r\n"
            "Subject: retried by Postfix\r\n"
            "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n"
            f"Message-ID: <{MESSAGE_ID}>\r\n"
            "\r\n"
            "The first 250 for this message is lost; Postfix retries it.\r\n").encode()


def events(server, kind):
    return [e["text"] for e in server.events(kind)]


def delivery_lines(postfix, queue_id):
    """Postfix's smtp(8) result lines for the message, oldest first."""
    return [line for line in postfix.log().splitlines()
            if f": {queue_id}: to=<{RCPT}>" in line and "status=" in line]


def main():
    reason = skip_reason()
    if reason:
        print(f"SKIP: {reason}", flush=True)
        sys.exit(77)
    # ctest's timeout and ^C end us with a signal: unwind through the finally below so that
    # neither Postfix (a daemon, not our child) nor postern is left running.
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda signum, _: sys.exit(128 + signum))
    binary = sys.argv[1]
    checks = Checks()
    work = tempfile.mkdtemp(prefix="postern-pfretry-")
    os.chmod(work, 0o755)  # Postfix's daemons (user postfix) reach DIR/queue below it
    server = None
    parts = {}
    state = {}
    try:
        server = Postern(binary)

        def setup():
            server.add_user(RCPT, "correct horse battery")
            server.start()
            parts["proxy"] = FirstSessionLossyProxy(server.ports["smtp"])
            parts["postfix"] = PrivatePostfix(work, parts["proxy"].port)
            parts["postfix"].start()
            assert parts["postfix"].processes(), "no process carries MAIL_CONFIG of the instance"

        checks.run("postern, the proxy and a private Postfix start", setup)
        if not checks.failed:
            run_checks(checks, server, parts["proxy"], parts["postfix"], state)
    finally:
        postfix = parts.get("postfix")
        if postfix is not None:
            postfix.stop()
            checks.run("no process of the private Postfix is left",
                       lambda: wait_for(lambda: not postfix.processes(), 30,
                                        "the private Postfix's processes to exit"))
        if "proxy" in parts:
            parts["proxy"].close()
        if server is not None:
            checks.run("SIGTERM stops postern with exit 0", lambda: stopped_cleanly(server))
            checks.run("no sanitizer report", server.check_clean_log)
            if checks.failed:
                print("--- postern log ---\n" + server.log(), flush=True)
            server.close()
        if checks.failed and postfix is not None:
            print("--- postfix log ---\n" + postfix.log()[-6000:], flush=True)
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


def stopped_cleanly(server):
    if server.proc is None:
        return  # never started: the setup check has failed already
    code = server.stop()
    assert code == 0, f"postern exited {code}"


def run_checks(checks, server, lossy, postfix, state):
    data = message()

    def relayed_once_stored_once():
        began = time.monotonic()
        state["queue_id"] = postfix.inject(data)
        # Both halves: Postfix considers it delivered, postern recognised the retry.
        def done():
            if postfix.unstick():
                print("  note: qmgr found the queue file still locked; flushed once", flush=True)
            return postfix.queue_empty() and events(server, "duplicate-suppressed")

        wait_for(done, 120, "an empty Postfix queue and a duplicate-suppressed event")
        state["elapsed"] = time.monotonic() - began
        stored = [m for m in server.export().get(RCPT, []) if MESSAGE_ID.encode() in m]
        assert len(stored) == 1, f"{len(stored)} copies in bob's mailbox"
        assert strip_trace(stored[0]) == data, stored[0][:800]
        assert b"by postfix-retry.localdomain" in stored[0], "no Received by Postfix"

    def proxy_saw_two_sessions_with_data():
        assert lossy.cuts == 1, f"{lossy.cuts} cuts"
        assert len(lossy.data_ends) == 2, \
            f"{lossy.sessions} sessions, {len(lossy.data_ends)} with a complete DATA"
        assert lossy.sessions == 2, f"{lossy.sessions} sessions"

    def postfix_deferred_then_sent():
        assert "queue_id" in state, "nothing was injected"
        lines = delivery_lines(postfix, state["queue_id"])
        for line in lines:
            print("  postfix: " + line, flush=True)
        assert len(lines) == 2, f"{len(lines)} delivery attempts logged"
        first, second = lines
        assert "status=deferred" in first and "lost connection" in first, first
        assert "while sending end of data" in first, first
        assert f"relay=127.0.0.1[127.0.0.1]:{lossy.port}" in second, second
        assert "status=sent (250" in second, second

    def postern_logged_the_suppression():
        found = [e for e in events(server, "duplicate-suppressed")
                 if f"message_id=<{MESSAGE_ID}>" in e]
        assert len(found) == 1, events(server, "duplicate-suppressed")
        assert f"mailbox={RCPT}" in found[0], found[0]
        assert "event=duplicate-suppressed" in server.log()

    checks.run("Postfix's retry after a lost 250 leaves exactly one copy",
               relayed_once_stored_once)
    if "elapsed" in state and len(lossy.data_ends) == 2:
        gap = lossy.data_ends[1] - lossy.data_ends[0]
        print(f"  timing: injected -> done {state['elapsed']:.1f}s, "
              f"first -> second end-of-data {gap:.1f}s", flush=True)
    checks.run("the proxy saw two sessions with DATA, one cut", proxy_saw_two_sessions_with_data)
    checks.run("Postfix logged the first try deferred and the second sent",
               postfix_deferred_then_sent)
    checks.run("postern logged one duplicate-suppressed event", postern_logged_the_suppression)
    checks.run("the store is consistent", lambda: server.cli("status", "--check"))


if __name__ == "__main__":
    main()
