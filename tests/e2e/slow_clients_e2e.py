"""Slow and idle clients (issue 15): one byte per second on every port, and the connection
limit held by idle clients. Stated bounds, each checked:

* while slow clients trickle one byte per second into SMTP, POP3 and HTTP, a new SMTP
  delivery, a POP3 login (USER/PASS/STAT/QUIT) and a page request each finish within 1 s;
* while idle clients from one address hold every connection that address may have
  (max_connections_per_ip), a client from another address is still served within 1 s;
* with the whole limit (max_connections) held by idle clients, a new SMTP client gets its
  "220" greeting, a POP3 client "+OK" and an HTTP client its page within 1 s: the idle
  client silent the longest is closed to admit it (idle_eviction_e2e.py tests that policy);
* peak memory (VmHWM) stays inside the board's memory_budget_mb. It is printed.

usage: slow_clients_e2e.py POSTERN
"""
import os
import poplib
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Postern, scaled, wait_for  # noqa: E402

USER = "slow@example.org"
PASSWORD = "slow-clients-pw"
MAX_CONNECTIONS = 24
MAX_PER_IP = 8
BOUND_S = 1.0
SLOW_PER_PORT = 6
SLOW_SECONDS = 6


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def deliver(server, source="127.0.0.1", tag="x"):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(10),
                      source_address=(source, 0)) as client:
        client.sendmail("s@sender.example.net", [USER],
                        f"Subject: {tag}\r\nMessage-ID: <{tag}@s>\r\n\r\nbody {tag}\r\n")


class SourcedPOP3(poplib.POP3):
    """poplib's client from a chosen loopback source address."""

    def __init__(self, host, port, timeout, source):
        self.source = source
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


def pop3_login(server, source="127.0.0.1"):
    client = SourcedPOP3("127.0.0.1", server.ports["pop3"], scaled(10), source)
    try:
        client.user(USER)
        client.pass_(PASSWORD)
        client.stat()
        client.quit()
    finally:
        client.close()


def page(server, source="127.0.0.1"):
    port = server.ports["http"]
    # urllib cannot bind a source address; a raw request is enough for "served".
    with socket.create_connection(("127.0.0.1", port), timeout=scaled(10),
                                  source_address=(source, 0)) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
                  .encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:80]


class Trickle(threading.Thread):
    """A client that sends `text` one byte per second (slowloris)."""

    def __init__(self, port, text, stop):
        super().__init__(daemon=True)
        self.port, self.text, self.stop = port, text, stop
        self.sent = 0

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=scaled(30)) as s:
                for byte in self.text:
                    if self.stop.wait(1.0):  # the trickle's pace: one byte a second
                        return
                    s.sendall(bytes([byte]))
                    self.sent += 1
        except OSError:
            pass


def test_trickle(server, checks, worst):
    stop = threading.Event()
    port_texts = [(server.ports["smtp"], b"EHLO slow.example.net\r\nMAIL FROM:<s@x>\r\n"),
                  (server.ports["pop3"], b"USER slow@example.org\r\nPASS wrong\r\n"),
                  (server.ports["http"], b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")]
    # Slow clients come from 127.0.0.1; MAX_PER_IP admits SLOW_PER_PORT of them per port.
    trickles = [Trickle(p, t, stop) for p, t in port_texts for _ in range(SLOW_PER_PORT)]
    for t in trickles:
        t.start()
    wait_for(lambda: all(t.sent > 0 for t in trickles), 10, "every slow client to send a byte")
    deadline = time.monotonic() + SLOW_SECONDS
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            for name, fn in (("smtp", lambda: deliver(server, tag=f"t{n}")),
                             ("pop3", lambda: pop3_login(server)),
                             ("http", lambda: page(server))):
                worst[name] = max(worst.get(name, 0), timed(fn))
    finally:
        stop.set()
    for t in trickles:
        t.join(scaled(10))
    print(f"{len(trickles)} one-byte-a-second clients for {SLOW_SECONDS} s; {n} rounds of "
          "service; worst: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in worst.items()),
          flush=True)

    def within():
        slow = {k: v for k, v in worst.items() if v > BOUND_S * max(1, scaled(1))}
        assert not slow, f"over {BOUND_S} s: {slow}"
    checks.run(f"slow clients on every port: SMTP, POP3 and HTTP served within {BOUND_S} s",
               within)


def hold(port, count, source):
    """Opens `count` idle connections from `source`; returns the sockets."""
    held = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=scaled(10),
                                     source_address=(source, 0))
        held.append(s)
    return held


def first_reply(port, source="127.0.0.1", request=b""):
    """(seconds, first bytes or b'' on close) of a new connection, after sending `request`."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=scaled(10),
                                  source_address=(source, 0)) as s:
        try:
            s.sendall(request)
            data = s.recv(512)
        except socket.timeout:
            data = b"<hang>"
    return time.monotonic() - start, data


def test_idle_limit(server, checks, worst):
    held = []
    # The slow clients of the last test are gone, server side too (none is still admitted).
    wait_for(lambda: sum(server_connections(server, ("01", "08")).values()) == 0, 10,
             "the slow clients' connections to close")
    try:
        # One address holds all it may on every port: the others are still served.
        for key in ("smtp", "pop3", "http"):
            held += hold(server.ports[key], MAX_PER_IP + 4, "127.0.0.1")
        try:
            wait_for(lambda: sum(server_connections(server).values()) >= 3 * MAX_PER_IP,
                     10, "the idle clients to be admitted")
        except AssertionError as error:
            raise AssertionError(f"{error}: {server_connections(server)}")
        times = {"smtp": timed(lambda: deliver(server, "127.0.0.2", "other-ip")),
                 "pop3": timed(lambda: pop3_login(server, "127.0.0.2")),
                 "http": timed(lambda: page(server, "127.0.0.2"))}
        for k, v in times.items():
            worst[k + "-other-ip"] = v
        print("per-address limit held by idle clients; another address served in " +
              ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in times.items()), flush=True)
        checks.run(f"idle clients at the per-address limit: another address served within "
                   f"{BOUND_S} s", lambda: _assert_all_within(times))

        # Now the whole limit, from several addresses: new clients are still served, an
        # idle one making room (net/idle_eviction.h).
        sources = [f"127.0.0.{i}" for i in range(3, 3 + MAX_CONNECTIONS // MAX_PER_IP + 1)]
        for key in ("smtp", "pop3", "http"):
            for source in sources:
                held += hold(server.ports[key], MAX_PER_IP, source)
        wait_for(lambda: min(server_connections(server).values()) >= MAX_CONNECTIONS, 10,
                 "the idle clients to fill every limit")
        replies = {}
        get = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.ports['http']}\r\n\r\n".encode()
        for key, request in (("smtp", b""), ("pop3", b""), ("http", get)):
            replies[key] = first_reply(server.ports[key], "127.0.0.99", request)
        print("whole limit held by idle clients: a new client got " + ", ".join(
            f"{k} {v[1][:40]!r} after {v[0] * 1000:.0f} ms" for k, v in replies.items()),
            flush=True)

        def served_promptly():
            assert replies["smtp"][1].startswith(b"220"), replies["smtp"]
            assert replies["pop3"][1].startswith(b"+OK"), replies["pop3"]
            assert replies["http"][1].startswith(b"HTTP/1.1 200"), replies["http"]
            _assert_all_within({k: v[0] for k, v in replies.items()})
        checks.run(f"the whole limit held by idle clients: new clients get 220 / +OK / 200 "
                   f"within {BOUND_S} s", served_promptly)
    finally:
        for s in held:
            s.close()
    # Released: service comes back.
    checks.run("after the idle clients leave, a delivery succeeds",
               lambda: wait_for(lambda: _try(lambda: deliver(server, tag="after")), 10,
                                "a delivery after the idle clients left"))


def _try(fn):
    try:
        fn()
        return True
    except (OSError, smtplib.SMTPException, poplib.error_proto):
        return False


def _assert_all_within(times):
    slow = {k: v for k, v in times.items() if v > BOUND_S * max(1, scaled(1))}
    assert not slow, f"over {BOUND_S} s: {slow}"


def server_connections(server, states=("01",)):
    """Server-side sockets per service from /proc in `states` (01 ESTABLISHED, 08 CLOSE_WAIT:
    sockets postern has not closed)."""
    counts = {}
    for key in ("smtp", "pop3", "http"):
        port = server.ports[key]
        n = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        local, state = fields[1], fields[3]
                        if state in states and int(local.rsplit(":", 1)[1], 16) == port:
                            n += 1
            except OSError:
                pass
        counts[key] = n
    return counts


def main():
    binary = sys.argv[1]
    checks = Checks()
    server = Postern(binary, {"max_connections": MAX_CONNECTIONS,
                              "max_connections_per_ip": MAX_PER_IP})
    try:
        server.add_user(USER, PASSWORD)
        server.start()
        budget_mb = int(dict(line.split(None, 1) for line in
                             server.cli("set").stdout.splitlines()
                             if line.startswith("memory_budget_mb"))
                        .get("memory_budget_mb", "256").split()[0])
        worst = {}
        test_trickle(server, checks, worst)
        test_idle_limit(server, checks, worst)
        hwm = vm(server.proc.pid, "VmHWM")
        rss = vm(server.proc.pid, "VmRSS")
        print(f"memory: VmHWM {hwm / 1048576:.1f} MB, VmRSS {rss / 1048576:.1f} MB, "
              f"board budget {budget_mb} MB", flush=True)
        checks.run("peak memory (VmHWM) inside the board's memory budget",
                   lambda: _assert(hwm < budget_mb << 20, f"VmHWM {hwm} > {budget_mb} MB"))
        checks.closing(server)
    finally:
        server.close()
    checks.finish()


def _assert(condition, message):
    assert condition, message


if __name__ == "__main__":
    main()
