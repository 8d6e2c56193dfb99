#!/usr/bin/env python3
"""login_load.py: POP3 login latency and TLS handshake cost against one server, loopback only.

Two measurements, each printing one machine line (bench=... key=value ...):

  login      C clients at once (threads released together), each doing R logins in turn as
             user N (USER_PATTERN with {n} = first..first+C-1): connect, [TLS handshake],
             greeting, USER, PASS, timed up to the "+OK" after PASS (RFC 1939 §7), then
             QUIT, untimed. --distinct: every login a different user (first logins of a
             fresh process, before any cache holds them). --tls: implicit TLS (RFC 8314 §3.3); --resume: each client does
             one untimed full handshake first, then offers that session (ticket or ID) on
             every timed connection. Prints p50/p90/max in ms and how many TLS connections
             resumed.
  handshake  C clients make N TLS connections in all (connect, handshake, greeting, close),
             full or --resume; prints handshakes/s and, with --cpu-pid, the server's CPU
             seconds (utime + stime from /proc, children reaped by it included, summed over
             the process tree under each PID) per handshake.

TLS 1.2 at most on both servers (postern's mbedTLS 2.28 has no TLS 1.3), certificates not
verified (both are self-signed), the client's default groups (X25519 first). Standard
library only; every socket operation has a timeout. Exit 0 with zero errors, 1 otherwise.
"""
import argparse
import os
import socket
import ssl
import statistics
import sys
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(roots):
    """utime+stime+cutime+cstime over every process under the given PIDs (themselves too)."""
    parent, ticks = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        pid = int(entry)
        parent[pid] = int(fields[1])
        ticks[pid] = sum(int(x) for x in fields[11:15])
    total = 0
    for pid, count in ticks.items():
        p, hops = pid, 0
        while p > 1 and p not in roots and hops < 64:
            p, hops = parent.get(p, 0), hops + 1
        if p in roots:
            total += count
    return total / CLK_TCK


def make_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


class Client:
    def __init__(self, args, context):
        self.args, self.context = args, context
        self.session = None

    def connect(self, port):
        sock = socket.create_connection((self.args.host, port), timeout=self.args.timeout)
        if self.context is None:
            return sock, False
        tls = self.context.wrap_socket(sock, session=self.session)
        reused = tls.session_reused
        if self.args.resume:
            self.session = tls.session
        return tls, reused

    @staticmethod
    def line(sock, buffer):
        while b"\r\n" not in buffer[0]:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed by the server")
            buffer[0] += chunk
        text, _, buffer[0] = buffer[0].partition(b"\r\n")
        return text

    def login(self, user):
        """One timed login; returns (seconds, resumed)."""
        started = time.perf_counter()
        sock, reused = self.connect(self.args.port)
        try:
            buffer = [b""]
            if not self.line(sock, buffer).startswith(b"+OK"):
                raise ConnectionError("no greeting")
            sock.sendall(f"USER {user}\r\n".encode())
            if not self.line(sock, buffer).startswith(b"+OK"):
                raise ConnectionError("USER refused")
            sock.sendall(f"PASS {self.args.password}\r\n".encode())
            reply = self.line(sock, buffer)
            elapsed = time.perf_counter() - started
            if not reply.startswith(b"+OK"):
                raise ConnectionError(f"PASS refused: {reply[:80]!r}")
            sock.sendall(b"QUIT\r\n")
            self.line(sock, buffer)
            return elapsed, reused
        finally:
            sock.close()

    def handshake(self):
        sock, reused = self.connect(self.args.port)
        try:
            if not self.line(sock, [b""]).startswith(b"+OK"):
                raise ConnectionError("no greeting")
            return reused
        finally:
            sock.close()


def run_threads(count, body):
    errors, gate = [], threading.Barrier(count)

    def runner(index):
        try:
            gate.wait(timeout=60)
            body(index)
        except Exception as error:  # counted and shown, never fatal to the other clients
            errors.append(f"client {index}: {error}")

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def measure_login(args):
    context = make_context() if args.tls else None
    samples, resumed, lock = [], [0], threading.Lock()
    clients = [Client(args, context) for _ in range(args.clients)]
    if args.resume:
        for c in clients:
            c.handshake()  # untimed: the session to resume

    def body(index):
        for round_number in range(args.rounds):
            n = args.first + (index * args.rounds + round_number if args.distinct else index)
            seconds, reused = clients[index].login(args.user.replace("{n}", str(n)))
            with lock:
                samples.append(seconds)
                resumed[0] += int(reused)

    errors = run_threads(args.clients, body)
    ms = sorted(s * 1000 for s in samples)
    p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")
    print(f"bench=login clients={args.clients} rounds={args.rounds} tls={int(args.tls)} "
          f"resume={int(args.resume)} logins={len(ms)} errors={len(errors)} "
          f"p50_ms={statistics.median(ms) if ms else float('nan'):.2f} p90_ms={p(0.9):.2f} "
          f"max_ms={p(1.0):.2f} resumed={resumed[0]}")
    for e in errors[:5]:
        print(e, file=sys.stderr)
    return not errors


def measure_handshakes(args):
    context = make_context()
    clients = [Client(args, context) for _ in range(args.clients)]
    if args.resume:
        for c in clients:
            c.handshake()
    per_client = max(1, args.count // args.clients)
    resumed, lock = [0], threading.Lock()

    def body(index):
        for _ in range(per_client):
            reused = clients[index].handshake()
            with lock:
                resumed[0] += int(reused)

    roots = set(args.cpu_pid)
    cpu_before = tree_cpu_seconds(roots) if roots else 0.0
    started = time.perf_counter()
    errors = run_threads(args.clients, body)
    wall = time.perf_counter() - started
    cpu = (tree_cpu_seconds(roots) - cpu_before) if roots else float("nan")
    done = per_client * args.clients - len(errors)
    print(f"bench=handshake clients={args.clients} resume={int(args.resume)} handshakes={done} "
          f"errors={len(errors)} per_s={done / wall:.1f} cpu_s={cpu:.3f} "
          f"cpu_ms_per_handshake={cpu * 1000 / max(done, 1):.3f} resumed={resumed[0]}")
    for e in errors[:5]:
        print(e, file=sys.stderr)
    return not errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["login", "handshake"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", default="bench{n}@example.org")
    parser.add_argument("--first", type=int, default=1, help="the first {n}")
    parser.add_argument("--password", default="")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--distinct", action="store_true",
                        help="a new user for every login ({n} = first + client*rounds + round)")
    parser.add_argument("--count", type=int, default=200, help="handshakes in all")
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--cpu-pid", type=int, action="append", default=[])
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    if args.resume:
        args.tls = True
    ok = measure_login(args) if args.what == "login" else measure_handshakes(args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
