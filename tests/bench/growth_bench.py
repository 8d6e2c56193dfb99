#!/usr/bin/env python3
"""growth_bench: costs as the store grows (issue 16 §3), with the shipped host defaults.

usage: growth_bench.py POSTERN_BINARY [--tools DIR] [--quick] [--keep] [--sizes 10,1000,...]
                      [--pop3-only]

One mailbox (bob@example.org) is filled to each size in turn (default 10, 1 000, 10 000,
100 000; --quick: 10 and 200) with `postern import --maildir` of a generated Maildir of 1 KB
messages, the server stopped; the fill time is printed. At each size, with the server running:
  pop3 login    connect -> "+OK" after PASS (the first session of a server pays one PBKDF2 run
                at the shipped iterations; later ones hit the credential cache)
  uidl / stat / list   the command's time, whole reply read
  lag login / UIDL / LIST   loop_lag_max_ms (below) over that step alone: the login (the
                maildrop snapshot), the UIDL reply, STAT + LIST; the worst of the sessions
  rss           postern's VmRSS with the session open, after UIDL and LIST, and of it
                RssAnon: its own memory, without LMDB's mapped file pages
  session       RssAnon with the session open minus RssAnon just before it connected, on a
                freshly started server (the first session at each size): what one session
                of that maildrop costs
  overview      GET /api/status over HTTP with an admin session (the page's refresh)
  lag           loop_lag_max_ms from /api/status: the largest timer delay on the loop
                during that step (the probe in src/app/loop_lag.cpp); "idle" is one second
                with no clients, the machine's noise floor
Medians of 3 (--quick: 1). SMTP ingest (tests/bench/smtp_load, 10 connections, 1 KB, to a
second mailbox) runs on the empty store and again at the largest size, with postern's CPU
seconds (utime + stime of /proc/PID/stat) per 1 000 messages. The only settings changed from
the host board are the ports (0: any free port); each is printed. Loopback only; every wait is
bounded. --pop3-only leaves out the SMTP ingest and the overview. Exit 0 when every step
succeeded, 1 otherwise, 2 on bad usage.
"""
import http.client
import json
import os
import poplib
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

USER = "bob@example.org"
INGEST_USER = "ingest@example.org"
PASSWORD = "growth-bench-password-1"
ADMIN_PASSWORD = "growth-bench-admin-123"
SCALE = float(os.environ.get("POSTERN_TEST_TIMEOUT_MULTIPLIER", "1"))
TICKS = os.sysconf("SC_CLK_TCK")


def die(message, code=1):
    print(f"growth_bench: {message}", file=sys.stderr)
    sys.exit(code)


class Server:
    def __init__(self, binary, work):
        self.binary = binary
        self.data = os.path.join(work, "data")
        self.log_path = os.path.join(work, "postern.log")
        self.proc = None
        self.ports = {}
        self.cookie = None
        self.admin_set = False

    def cli(self, *args, stdin=None):
        r = subprocess.run([self.binary, *args, "--data", self.data], input=stdin,
                           capture_output=True, text=True, timeout=3600 * SCALE)
        if r.returncode != 0:
            die(f"postern {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--data", self.data],
                                     stdout=subprocess.PIPE, stderr=log)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 60 * SCALE
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                die("postern printed no ready line")
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                die("postern exited before ready")
            line += chunk
        self.ports = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line.decode())}
        self.cookie = None

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60 * SCALE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            die("postern did not stop on SIGTERM")
        self.proc = None
        if code != 0:
            die(f"postern exited {code} on SIGTERM")

    def rss_kb(self):
        """(VmRSS, RssAnon) in kB: all resident pages, and postern's own (not LMDB's file)."""
        found = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in ("VmRSS", "RssAnon"):
                    found[key] = int(line.split()[1])
        return found.get("VmRSS", 0), found.get("RssAnon", 0)

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)

    def _http(self):
        return http.client.HTTPConnection("127.0.0.1", self.ports["http"], timeout=60 * SCALE)

    def login_admin(self):
        """The page's first visit: the set-up link from the log, then a session cookie."""
        origin = f"http://127.0.0.1:{self.ports['http']}"
        conn = self._http()
        with open(self.log_path, "rb") as f:
            tokens = re.findall(rb"/setup#([0-9a-f]+)", f.read())
        if tokens and not self.admin_set:
            body = {"token": tokens[-1].decode(), "password": ADMIN_PASSWORD}
            path = "/api/setup"
        else:
            body = {"password": ADMIN_PASSWORD}
            path = "/api/login"
        conn.request("POST", path, json.dumps(body),
                     {"Content-Type": "application/json", "Origin": origin,
                      "Sec-Fetch-Site": "same-origin"})
        reply = conn.getresponse()
        text = reply.read()
        if reply.status != 200:
            die(f"{path} answered {reply.status}: {text[:200]!r}")
        self.cookie = reply.getheader("Set-Cookie").split(";", 1)[0]
        self.admin_set = True
        conn.close()

    def status(self):
        """(seconds, overview JSON) of one GET /api/status."""
        if self.cookie is None:
            self.login_admin()
        conn = self._http()
        t0 = time.perf_counter()
        conn.request("GET", "/api/status", headers={"Cookie": self.cookie})
        reply = conn.getresponse()
        body = reply.read()
        elapsed = time.perf_counter() - t0
        conn.close()
        if reply.status != 200:
            die(f"/api/status answered {reply.status}")
        return elapsed, json.loads(body)["overview"]

    def lag_ms(self):
        """The loop's largest timer delay since the previous status read."""
        overview = self.status()[1]
        if not isinstance(overview.get("loop_lag_max_ms"), (int, float)):
            die("/api/status has no loop_lag_max_ms (the loop-lag probe)")
        return overview["loop_lag_max_ms"]


def write_maildir(root, start, count):
    folder = os.path.join(root, USER, "new")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(root, USER, sub), exist_ok=True)
    filler = ("x" * 70 + "\r\n") * 12
    for i in range(start, start + count):
        with open(os.path.join(folder, f"{1700000000 + i}.M{i}P1.bench"), "w", newline="") as f:
            f.write(f"From: load@bench.example\r\nTo: {USER}\r\nSubject: growth {i}\r\n"
                    f"Message-ID: <growth-{i}@bench.example>\r\n\r\n{filler}")


def pop3_session(server):
    """Timings (s) of one POP3 session, postern's memory (kB) and the loop lag (ms) per step."""
    server.lag_ms()  # closes the previous interval: each lag below covers one step
    _, anon0 = server.rss_kb()
    t0 = time.perf_counter()
    pop = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=120 * SCALE)
    pop.user(USER)
    pop.pass_(PASSWORD)
    t1 = time.perf_counter()
    lag_login = server.lag_ms()
    t1b = time.perf_counter()
    _, uidl, _ = pop.uidl()
    t2 = time.perf_counter()
    lag_uidl = server.lag_ms()
    t2b = time.perf_counter()
    count, _ = pop.stat()
    t3 = time.perf_counter()
    _, listing, _ = pop.list()
    t4 = time.perf_counter()
    lag_list = server.lag_ms()
    rss, anon = server.rss_kb()
    pop.quit()
    if not (len(uidl) == len(listing) == count):
        die(f"UIDL {len(uidl)}, LIST {len(listing)} and STAT {count} disagree")
    return {"login": t1 - t0, "uidl": t2 - t1b, "login_uidl": (t1 - t0) + (t2 - t1b),
            "stat": t3 - t2b, "list": t4 - t3, "rss": rss, "anon": anon,
            "session": anon - anon0, "count": count, "lag_login": lag_login,
            "lag_uidl": lag_uidl, "lag_list": lag_list}


def smtp_ingest(server, load, messages):
    cpu0 = server.cpu_s()
    r = subprocess.run([load, "--port", str(server.ports["smtp"]), "--connections", "10",
                        "--messages", str(messages), "--size", "1024", "--rcpt", INGEST_USER,
                        "--time-limit", str(int(300 * SCALE))],
                       capture_output=True, text=True, timeout=600 * SCALE)
    cpu = server.cpu_s() - cpu0
    line = next((l for l in r.stdout.splitlines() if l.startswith("bench=smtp_load")), "")
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    if r.returncode != 0 or not fields or int(fields["accepted"]) != messages:
        die(f"smtp_load failed ({r.returncode}): {r.stdout.strip()} {r.stderr.strip()}")
    return float(fields["accepted_msgs_per_s"]), float(fields["p50_ms"]), cpu * 1000 / messages


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def main(argv):
    args = list(argv[1:])
    if not args or args[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(args.pop(0))
    quick = keep = pop3_only = False
    tools = os.path.join(os.path.dirname(binary), "tests", "bench")
    sizes = None
    while args:
        a = args.pop(0)
        if a == "--quick":
            quick = True
        elif a == "--keep":
            keep = True
        elif a == "--pop3-only":
            pop3_only = True
        elif a == "--tools" and args:
            tools = args.pop(0)
        elif a == "--sizes" and args:
            sizes = [int(s) for s in args.pop(0).split(",")]
        else:
            print(__doc__, file=sys.stderr)
            return 2
    sizes = sizes or ([10, 200] if quick else [10, 1000, 10000, 100000])
    runs = 1 if quick else 3
    ingest_n = 300 if quick else 5000
    load = os.path.join(tools, "smtp_load")
    if not os.access(binary, os.X_OK) or not os.access(load, os.X_OK):
        die(f"need an executable postern ({binary}) and smtp_load ({load})", 2)

    work = tempfile.mkdtemp(prefix="postern-growth-bench-")
    # The generated Maildirs are scratch: in RAM when /dev/shm exists (creating and removing
    # 100 000 files on a loaded disk takes minutes and measures nothing of postern).
    scratch = tempfile.mkdtemp(prefix="postern-growth-maildir-",
                               dir="/dev/shm" if os.path.isdir("/dev/shm") else work)
    server = Server(binary, work)
    try:
        for key in ("smtp_port", "pop3_port", "pop3s_port", "http_port", "https_port"):
            server.cli("set", key, "0")
        shipped = re.search(r"^pbkdf2_iterations\s+(\S+)", server.cli("set").stdout, re.M)
        print("settings changed from the host board: smtp/pop3/pop3s/http/https_port=0; "
              f"everything else shipped (pbkdf2_iterations={shipped.group(1) if shipped else '?'})")
        server.cli("domain", "add", "example.org")
        server.cli("user", "add", USER, stdin=PASSWORD + "\n")
        server.cli("user", "add", INGEST_USER, stdin=PASSWORD + "\n")

        if not pop3_only:
            server.start()
            server.lag_ms()
            rate0, p50_0, cpu0 = smtp_ingest(server, load, ingest_n)
            lag = server.lag_ms()
            print(f"smtp ingest, empty store: {rate0:.0f} msg/s, p50 {p50_0:.2f} ms, "
                  f"{cpu0:.3f} CPU s per 1000 msgs, loop lag max {lag:.1f} ms "
                  f"({ingest_n} x 1 KB, 10 connections)", flush=True)
            server.stop()

        rows = []
        stored = 0
        for size in sizes:
            maildir = os.path.join(scratch, f"maildir-{size}")
            write_maildir(maildir, stored, size - stored)
            t0 = time.perf_counter()
            server.cli("import", "--maildir", maildir)
            fill = time.perf_counter() - t0
            shutil.rmtree(maildir)
            added = size - stored
            stored = size
            server.start()
            server.lag_ms()  # opens the admin session, starts the step's interval
            time.sleep(1)  # a measured idle second, not a synchronisation: the noise floor
            lag_idle = server.lag_ms()
            sessions = [pop3_session(server) for _ in range(runs)]
            if sessions[0]["count"] != size:
                die(f"the mailbox holds {sessions[0]['count']} messages, expected {size}")
            overview = lag_overview = float("nan")
            if not pop3_only:
                reads = [server.status() for _ in range(runs)]
                overview = statistics.median(t for t, _ in reads)
                lag_overview = max([server.lag_ms()] +
                                   [o.get("loop_lag_max_ms", float("nan")) for _, o in reads])
            med = {k: statistics.median(s[k] for s in sessions) for k in sessions[0]}
            for k in ("lag_login", "lag_uidl", "lag_list"):
                med[k] = max(s[k] for s in sessions)
            med["session"] = sessions[0]["session"]  # the fresh server's first session
            rows.append((size, added, fill, med, lag_idle, overview, lag_overview))
            print(f"{size} messages: fill +{added} in {fill:.1f} s; login {ms(med['login'])} ms, "
                  f"UIDL {ms(med['uidl'])} ms, login->UIDL {ms(med['login_uidl'])} ms, STAT "
                  f"{ms(med['stat'])} ms, LIST {ms(med['list'])} ms, session "
                  f"{med['session'] / 1024:.1f} MiB, RSS {med['rss'] / 1024:.1f} MiB (anon "
                  f"{med['anon'] / 1024:.1f}); lag idle {lag_idle:.1f} ms, login "
                  f"{med['lag_login']:.1f} ms, UIDL {med['lag_uidl']:.1f} ms, LIST "
                  f"{med['lag_list']:.1f} ms; overview {ms(overview)} ms, lag "
                  f"{lag_overview:.1f} ms", flush=True)
            if size != sizes[-1]:
                server.stop()

        if not pop3_only:
            rate1, p50_1, cpu1 = smtp_ingest(server, load, ingest_n)
            lag = server.lag_ms()
            print(f"smtp ingest, {stored} stored: {rate1:.0f} msg/s, p50 {p50_1:.2f} ms, "
                  f"{cpu1:.3f} CPU s per 1000 msgs, loop lag max {lag:.1f} ms", flush=True)
        final = server.status()[1]
        worst = final.get("loop_lag_max_total_ms", float("nan"))
        worst_wall = final.get("loop_iteration_max_total_ms", float("nan"))
        worst_cpu = final.get("loop_iteration_cpu_max_total_ms", float("nan"))
        server.stop()

        print()
        print("| messages | fill (import) | login | UIDL | login→UIDL | STAT | LIST | session | "
              "RSS (anon) | lag idle 1 s | lag login | lag UIDL | lag LIST | overview | "
              "lag overview |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size, added, fill, m, lag_i, ov, lag_o in rows:
            print(f"| {size:,} | +{added:,} in {fill:.1f} s | {ms(m['login'])} ms | "
                  f"{ms(m['uidl'])} ms | {ms(m['login_uidl'])} ms | {ms(m['stat'])} ms | "
                  f"{ms(m['list'])} ms | {m['session'] / 1024:.1f} MiB | "
                  f"{m['rss'] / 1024:.1f} ({m['anon'] / 1024:.1f}) MiB | {lag_i:.1f} ms | "
                  f"{m['lag_login']:.1f} ms | {m['lag_uidl']:.1f} ms | {m['lag_list']:.1f} ms | "
                  f"{ms(ov)} ms | {lag_o:.1f} ms |")
        if not pop3_only:
            print()
            print("| SMTP 1 KB, 10 connections | msg/s | p50 | CPU s / 1000 msgs |")
            print("|---|---:|---:|---:|")
            print(f"| empty store | {rate0:.0f} | {p50_0:.2f} ms | {cpu0:.3f} |")
            print(f"| {stored:,} stored | {rate1:.0f} | {p50_1:.2f} ms | {cpu1:.3f} |")
        print(f"loop since start of the last server: timer delay max {worst:.1f} ms, longest "
              f"iteration {worst_wall:.1f} ms wall / {worst_cpu:.1f} ms CPU; "
              f"load average {open('/proc/loadavg').read().split()[:3]}")
        print("PASS: zero errors")
        return 0
    finally:
        if server.proc is not None:
            server.proc.kill()
            server.proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
