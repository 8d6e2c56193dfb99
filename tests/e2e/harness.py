"""Shared e2e harness: a real `postern serve` on loopback with a temporary data dir.

Ports are 0 (the kernel picks) and read back from the one "postern ready" line.
Every wait is bounded and scaled by POSTERN_TEST_TIMEOUT_MULTIPLIER; nothing sleeps
to synchronise.
"""
import ipaddress
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# Network discipline (issue 15): a test's postern may probe loopback only. postern logs every
# probe target as "diag event=probe target=ADDR by=WHO"; a test that builds its own namespaces
# adds their networks to Postern.allowed_probe_networks.
LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
PROBE_RE = re.compile(r"event=probe target=(\S+)")

MULTIPLIER = float(os.environ.get("POSTERN_TEST_TIMEOUT_MULTIPLIER", "1"))


def scaled(seconds):
    return seconds * MULTIPLIER


def wait_for(predicate, timeout, what):
    """Polls predicate() until true or the scaled timeout passes."""
    deadline = time.monotonic() + scaled(timeout)
    delay = 0.005
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(delay)  # polling interval of a bounded condition wait, not a sync sleep
        delay = min(delay * 2, 0.1)
    raise AssertionError(f"timed out after {scaled(timeout):.0f}s waiting for {what}")


class Postern:
    """Runs CLI commands and the server against one temporary data dir."""

    def __init__(self, binary, settings=None):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="postern-e2e-")
        self.data = os.path.join(self.dir, "data")
        self.proc = None
        self.ports = {}
        self.stderr_path = os.path.join(self.dir, "serve.err")
        self.allowed_probe_networks = list(LOOPBACK_NETWORKS)
        for key in ("smtp_port", "pop3_port", "pop3s_port", "http_port", "https_port"):
            self.cli("set", key, "0")
        # Fast password hashing keeps the suite quick; PBKDF2 itself is unit-tested.
        self.cli("set", "pbkdf2_iterations", "10000")
        for key, value in (settings or {}).items():
            self.cli("set", key, str(value))

    def cli(self, *args, stdin=None, check=True):
        result = subprocess.run([self.binary, *args, "--data", self.data], input=stdin,
                                capture_output=True, text=True, timeout=scaled(120))
        if check and result.returncode != 0:
            raise AssertionError(f"postern {' '.join(args)} failed ({result.returncode}): "
                                 f"{result.stderr.strip()}")
        return result

    def events(self, kind=None):
        """The event log as scripts read it (`postern events --json`), newest first."""
        out = self.cli("events", "--json", "--limit", "1000").stdout
        events = [json.loads(line) for line in out.splitlines()]
        return [e for e in events if kind is None or e["kind"] == kind]

    def add_user(self, address, password):
        domain = address.split("@", 1)[1]
        if domain not in self.cli("domain", "list").stdout.split():
            self.cli("domain", "add", domain)
        self.cli("user", "add", address, stdin=password + "\n")

    def start(self):
        # Append: a restarted server's log follows the earlier runs' (the probe check reads all).
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--data", self.data],
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + scaled(30)
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError("postern did not print its ready line: " + self.log())
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                raise AssertionError("postern exited before ready: " + self.log())
            line += chunk
        text = line.decode()
        assert text.startswith("postern ready"), text
        self.ports = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", text)}
        return self

    def log(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self):
        """SIGTERM; the server must exit 0 within the bound."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=scaled(30))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("postern did not stop on SIGTERM: " + self.log())
        self.proc = None
        return code

    def check_clean_log(self):
        """No sanitizer report may appear in the server's stderr, and no probe left loopback."""
        text = self.log()
        for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if marker in text:
                raise AssertionError("sanitizer report in postern's log:\n" + text)
        self.check_probes()

    def probe_targets(self):
        """Every probe target postern logged (the whole log, all restarts)."""
        try:
            with open(self.stderr_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return []
        return PROBE_RE.findall(text)

    def check_probes(self):
        """Fails when postern logged a probe to an address outside the allowed networks."""
        outside = []
        for target in self.probe_targets():
            try:
                address = ipaddress.ip_address(target.split("%", 1)[0])
            except ValueError:
                outside.append(target)
                continue
            if address.version == 6 and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            if not any(address.version == net.version and address in net
                       for net in self.allowed_probe_networks):
                outside.append(target)
        if outside:
            raise AssertionError("postern probed outside loopback: " +
                                 ", ".join(sorted(set(outside))))

    def export(self):
        """Every stored message via `postern export --maildir`: {address: [bytes, ...]}."""
        out = os.path.join(self.dir, "export")
        shutil.rmtree(out, ignore_errors=True)
        self.cli("export", "--maildir", out)
        boxes = {}
        for address in sorted(os.listdir(out)):
            messages = []
            for sub in ("new", "cur"):
                folder = os.path.join(out, address, sub)
                for name in sorted(os.listdir(folder)):
                    with open(os.path.join(folder, name), "rb") as f:
                        messages.append(f.read())
            boxes[address] = messages
        return boxes

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def strip_trace(message):
    """The bytes the client sent: drop our Return-Path and Received header lines."""
    lines = message.split(b"\r\n")
    i = 0
    while i < len(lines) and (lines[i].startswith(b"Return-Path:") or
                              lines[i].startswith(b"Received:") or
                              (i > 0 and lines[i][:1] in (b" ", b"\t"))):
        i += 1
    return b"\r\n".join(lines[i:])


class Checks:
    """Counts checks and prints the closing 'N passed, N failed' line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn, *args):
        try:
            fn(*args)
            self.passed += 1
            print(f"ok   {name}", flush=True)
        except Exception as error:  # noqa: BLE001 - report every failure, keep going
            self.failed += 1
            print(f"FAIL {name}: {error}", flush=True)

    def closing(self, server):
        """The checks every e2e suite ends with: clean SIGTERM, a consistent store, no sanitizer report."""
        def stops_cleanly():
            code = server.stop()
            if code != 0:
                raise AssertionError(f"exit {code}: " + server.log()[-1000:])
        self.run("SIGTERM stops the server with exit 0", stops_cleanly)
        self.run("the store is consistent afterwards", lambda: server.cli("status", "--check"))
        self.run("no sanitizer report", server.check_clean_log)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)
