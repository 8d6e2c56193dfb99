"""Idle eviction under load (issue 15; src/net/idle_eviction.h). Idle clients from several
loopback addresses (127.0.0.2..) hold a service's whole connection limit. Stated bounds,
each checked:

* SMTP: a real client (smtplib, from another address) still delivers within 1 s; the
  idle connection silent the longest is the one closed, with "421 4.7.0"; a session in
  DATA (silent longer than any other) is never closed and its message still gets 250;
* stressed (>= 80% of the limit): idle SMTP sessions are closed with 421 after 10 s of
  silence instead of 300 s, the DATA session is not;
* with every slot in DATA, a newcomer is refused with 421 at once (nobody is evicted);
* POP3: a login from another address works within 1 s; an idle client before login gets
  "-ERR [SYS/TEMP]"; a logged-in session is never closed;
* HTTP: with idle connections holding the limit, curl gets its page within 1 s; with
  every slot holding a request under way, curl gets "503 Service Unavailable" with
  Retry-After and a sentence, within 1 s.

usage: idle_eviction_e2e.py POSTERN
"""
import os
import poplib
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Postern, scaled, wait_for  # noqa: E402

USER = "idle@example.org"
PASSWORD = "idle-eviction-pw"
MAX_CONNECTIONS = 12
MAX_PER_IP = 3
SOURCES = [f"127.0.0.{i}" for i in range(2, 2 + MAX_CONNECTIONS // MAX_PER_IP)]
BOUND_S = 1.0
STRESSED_IDLE_S = 10  # net::EvictionOptions::stressed_idle_timeout


def bound():
    return BOUND_S * max(1, scaled(1))


class Held:
    """One raw client connection from a chosen source address."""

    def __init__(self, port, source):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=scaled(10),
                                             source_address=(source, 0))
        self.source = source
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed; had {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def command(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def pending(self):
        """What the server sent since, without blocking: (bytes, closed)."""
        self.sock.setblocking(False)
        closed = False
        try:
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    closed = True
                    break
                self.buf += chunk
        except (BlockingIOError, ConnectionResetError):
            pass
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(scaled(10))
        return self.buf, closed

    def close(self):
        self.sock.close()


def fill(port, count, greeting=True, skip=()):
    """`count` idle connections spread over SOURCES (at most MAX_PER_IP each)."""
    held, used = [], {s: 0 for s in SOURCES}
    for source in skip:
        used[source] += 1
    for _ in range(count):
        source = next(s for s in SOURCES if used[s] < MAX_PER_IP)
        used[source] += 1
        h = Held(port, source)
        if greeting:
            h.line()
        held.append(h)
    return held


def timed(fn):
    start = time.monotonic()
    result = fn()
    return time.monotonic() - start, result


def deliver(server, tag):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(10),
                      source_address=("127.0.0.100", 0)) as client:
        client.sendmail("s@sender.example.net", [USER],
                        f"Subject: {tag}\r\nMessage-ID: <{tag}@s>\r\n\r\nbody {tag}\r\n")


def open_data(port, source):
    """An SMTP session inside DATA, some body sent, then silent."""
    h = Held(port, source)
    assert h.line().startswith(b"220")
    assert h.command("EHLO data.example.net").startswith(b"250")
    while h.buf:  # the rest of the multi-line EHLO reply
        h.line()
    assert h.command("MAIL FROM:<d@sender.example.net>").startswith(b"250")
    assert h.command(f"RCPT TO:<{USER}>").startswith(b"250")
    assert h.command("DATA").startswith(b"354")
    h.sock.sendall(f"Subject: in DATA\r\nMessage-ID: <data-{source}@s>\r\n\r\nfirst half\r\n"
                   .encode())
    return h


def finish_data(h):
    h.sock.sendall(b"second half\r\n.\r\n")
    reply = h.line()
    h.command("QUIT")
    return reply


def evicted(held):
    """The held connections the server closed, with what they got."""
    out = []
    for h in held:
        data, closed = h.pending()
        if closed:
            out.append((h, data))
    return out


def test_smtp(server, checks):
    port = server.ports["smtp"]
    # The DATA session comes first, so it is the one silent the longest.
    data = open_data(port, SOURCES[0])
    idle = fill(port, MAX_CONNECTIONS - 1, skip=[SOURCES[0]])
    took, _ = timed(lambda: deliver(server, "newcomer"))
    gone = wait_for(lambda: evicted(idle + [data]), 5, "an idle SMTP client to be closed")
    print(f"SMTP limit ({MAX_CONNECTIONS}) held by 1 DATA + {len(idle)} idle sessions from "
          f"{len(SOURCES)} addresses: a newcomer delivered in {took * 1000:.0f} ms; closed: "
          f"{[g[1] for g in gone]}", flush=True)

    def served():
        assert took <= bound(), f"{took:.2f} s"
        assert len(gone) == 1 and gone[0][0] is idle[0], [g[0].source for g in gone]
        assert gone[0][1].startswith(b"421 4.7.0 "), gone[0][1]
    checks.run(f"SMTP limit held by idle clients: a newcomer is served within {BOUND_S} s, "
               f"the longest-idle one gets 421 4.7.0, the DATA session is kept", served)

    # Stressed (11 of 12 open, the threshold is 10): idle sessions go after ~10 s of
    # silence until the service is below the threshold; the DATA session stays.
    start = time.monotonic()
    rest = idle[1:]
    threshold = -(-MAX_CONNECTIONS * 80 // 100)
    closed = wait_for(lambda: (lambda c: c if 1 + len(rest) - len(c) < threshold else None)(
        evicted(rest)), STRESSED_IDLE_S + 5, "the stressed idle timeout to close idle sessions")
    took = time.monotonic() - start
    replies = {h.buf.split(b"\r\n")[0][:9] for h, _ in closed}
    print(f"stressed: {len(closed)} of {len(rest)} idle sessions closed after {took:.1f} s "
          f"({replies}), leaving the service below {threshold} open; the DATA session, silent "
          f"as long, stays", flush=True)

    def stressed():
        assert replies == {b"421 4.7.0"}, replies
        assert took >= STRESSED_IDLE_S - 2, f"closed after {took:.1f} s, not ~10 s of silence"
        assert took < scaled(STRESSED_IDLE_S + 2), took
        _, closed = data.pending()
        assert not closed, "the DATA session was closed"
        reply = finish_data(data)
        assert reply.startswith(b"250"), reply
    checks.run(f"stressed: idle SMTP sessions closed with 421 after {STRESSED_IDLE_S} s, the "
               "DATA session (silent just as long) finishes with 250", stressed)
    for h in idle + [data]:
        h.close()

    # Every slot mid-DATA: nobody may be evicted, the newcomer is refused at once.
    wait_for(lambda: server_sockets(port) == 0, 10, "the SMTP sessions to close")
    datas = [open_data(port, SOURCES[i // MAX_PER_IP]) for i in range(MAX_CONNECTIONS)]
    took, first = timed(lambda: Held(port, "127.0.0.100").line())
    print(f"all {MAX_CONNECTIONS} slots in DATA: a newcomer got {first!r} after "
          f"{took * 1000:.0f} ms", flush=True)

    def refused():
        assert first.startswith(b"421"), first
        assert took <= bound(), took
        assert not evicted(datas), "a DATA session was closed"
        for h in datas:
            assert finish_data(h).startswith(b"250")
    checks.run("every slot in DATA: a newcomer gets 421 at once and every DATA session "
               "still ends in 250", refused)
    for h in datas:
        h.close()


def test_pop3(server, checks):
    port = server.ports["pop3"]
    wait_for(lambda: server_sockets(port) == 0, 10, "the POP3 port to be free")
    # A logged-in session first: silent the longest, never evicted.
    logged = Held(port, SOURCES[0])
    logged.line()
    assert logged.command(f"USER {USER}").startswith(b"+OK")
    assert logged.command(f"PASS {PASSWORD}").startswith(b"+OK")
    idle = fill(port, MAX_CONNECTIONS - 1, skip=[SOURCES[0]])

    def login():
        # Greeting, CAPA, QUIT (USER's maildrop is locked by `logged`, RFC 1939 §8).
        client = poplib.POP3("127.0.0.1", port, timeout=scaled(10))
        try:
            client.capa()
            client.quit()
            return client.getwelcome()
        finally:
            client.close()
    took, welcome = timed(login)
    gone = wait_for(lambda: evicted(idle + [logged]), 5, "an idle POP3 client to be closed")
    print(f"POP3 limit held by 1 logged-in + {len(idle)} idle clients: a newcomer greeted "
          f"{welcome[:20]!r} in {took * 1000:.0f} ms; closed: {[g[1] for g in gone]}", flush=True)

    def served():
        assert welcome.startswith(b"+OK") and took <= bound(), (welcome, took)
        assert len(gone) == 1 and gone[0][0] is idle[0], [g[0].source for g in gone]
        assert gone[0][1].startswith(b"-ERR [SYS/TEMP]"), gone[0][1]
        assert logged.command("STAT").startswith(b"+OK"), "the logged-in session was closed"
        assert logged.command("QUIT").startswith(b"+OK")
    checks.run(f"POP3 limit held by idle clients: a newcomer is served within {BOUND_S} s, "
               "the idle one gets -ERR [SYS/TEMP], the logged-in session is kept", served)
    for h in idle + [logged]:
        h.close()


def curl(port):
    result = subprocess.run(
        ["curl", "-sS", "--max-time", str(scaled(10)), "--interface", "127.0.0.100", "-D", "-",
         f"http://127.0.0.1:{port}/"], capture_output=True, timeout=scaled(20))
    return result.returncode, result.stdout, result.stderr


def test_http(server, checks):
    port = server.ports["http"]
    idle = fill(port, MAX_CONNECTIONS, greeting=False)
    wait_for(lambda: server_sockets(port) >= MAX_CONNECTIONS, 10, "the idle HTTP clients")
    took, (rc, out, err) = timed(lambda: curl(port))
    print(f"HTTP limit held by {len(idle)} idle connections: curl got {out[:15]!r} in "
          f"{took * 1000:.0f} ms", flush=True)
    checks.run(f"HTTP limit held by idle connections: curl gets its page within {BOUND_S} s",
               lambda: _assert(rc == 0 and out.startswith(b"HTTP/1.1 200") and took <= bound(),
                               (rc, out[:80], err, took)))
    for h in idle:
        h.close()

    # Every slot with a request under way (its head not finished): not evictable -> 503.
    wait_for(lambda: server_sockets(port) == 0, 10, "the HTTP port to be free")
    busy = fill(port, MAX_CONNECTIONS, greeting=False)
    for h in busy:
        h.sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    took, (rc, out, err) = timed(lambda: curl(port))
    head, _, body = out.partition(b"\r\n\r\n")
    print(f"HTTP limit held by requests under way: curl got {head.splitlines()[:1]} and "
          f"{body!r} in {took * 1000:.0f} ms", flush=True)

    def busy_reply():
        assert rc == 0, (rc, err)
        assert head.startswith(b"HTTP/1.1 503 Service Unavailable"), head
        assert b"\r\nRetry-After: " in head, head
        assert b"busy" in body and body.endswith(b"\n"), body
        assert took <= bound(), took
    checks.run(f"HTTP limit held by requests under way: 503 with Retry-After and a sentence "
               f"within {BOUND_S} s", busy_reply)
    for h in busy:
        h.close()


def server_sockets(port):
    """Server-side ESTABLISHED or CLOSE_WAIT sockets on `port` (from /proc)."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] in ("01", "08") and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except OSError:
            pass
    return n


def _assert(condition, message):
    assert condition, message


def main():
    checks = Checks()
    server = Postern(sys.argv[1], {"max_connections": MAX_CONNECTIONS,
                                   "max_connections_per_ip": MAX_PER_IP})
    try:
        server.add_user(USER, PASSWORD)
        server.start()
        test_smtp(server, checks)
        test_pop3(server, checks)
        test_http(server, checks)
        checks.run("the log names every eviction",
                   lambda: _assert("event=evicted" in open(server.stderr_path,
                                                           errors="replace").read(),
                                   "no event=evicted line"))
        checks.closing(server)
    finally:
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
