"""kill -9 under load: an acknowledged mail survives any crash, exactly once (issue 15).

50 smtplib sender threads deliver unique messages (1 KB to 1.2 MB, some to two mailboxes)
while postern is SIGKILLed at seeded random moments and restarted on the same data folder.
Like a real MTA, a sender keeps every message without a 250 in its queue and retries it on
the next round; a message whose connection died after the final "." but before the reply is
"in doubt" (it may have landed) and its retry must be stored once (dedup). After every kill:
`postern status --check` is clean, every acknowledged message is listed again, and no UIDL
changed. At the end every message is retrieved over POP3 and compared byte for byte.
Then POP3 QUIT with deletions is killed at random offsets: all of that session's deletions
happened, or none.

usage: crash_e2e.py POSTERN [--kills N] [--seed S]
"""
import argparse
import collections
import hashlib
import os
import poplib
import random
import signal
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Postern, scaled, strip_trace, wait_for  # noqa: E402

PASSWORD = "crash-test-pw"
USERS = [f"u{i}@example.org" for i in range(5)]
SENDERS = 50
PER_ROUND = 200  # new messages queued per round: the bound on the load


class Message:
    def __init__(self, n, rng):
        self.n = n
        self.mid = f"<crash-{n}@sender.example.net>"
        self.rcpts = rng.sample(USERS, 2 if rng.random() < 0.1 else 1)
        roll = rng.random()
        size = 1_200_000 if roll < 0.008 else (60_000 if roll < 0.1 else rng.randint(200, 4000))
        lines = [f"From: sender{n % 7}@sender.example.net", "To: " + ", ".join(self.rcpts),
                 f"Subject: crash test {n}", f"Message-ID: {self.mid}", ""]
        body = []
        filler = hashlib.sha256(str(n).encode()).hexdigest()
        total = 0
        i = 0
        while total < size:
            # Every 9th line starts with a dot: stuffed by smtplib, unstuffed by postern,
            # stuffed again by RETR and unstuffed by poplib.
            line = ("." if i % 9 == 0 else "") + f"{n}:{i} {filler}"
            body.append(line)
            total += len(line) + 2
            i += 1
        self.data = ("\r\n".join(lines + body) + "\r\n").encode()
        self.acked = False
        self.attempts = 0
        self.in_doubt = 0  # times its connection died after "." without a reply


class Senders:
    """A shared queue drained by SENDERS threads; unacknowledged messages stay queued."""

    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.queue = []
        self.stop = False
        self.acks = 0
        self.kill_after = None
        self.reached = threading.Event()  # set at the kill_after-th 250

    def take(self):
        with self.lock:
            if self.stop or not self.queue:
                return None
            return self.queue.pop(0)

    def give_back(self, message):
        with self.lock:
            self.queue.append(message)

    def send(self, message):
        stage = "connect"
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=scaled(20)) as client:
                stage = "envelope"
                client.ehlo("sender.example.net")
                code, _ = client.mail("sender@sender.example.net")
                assert code == 250, f"MAIL {code}"
                for rcpt in message.rcpts:
                    code, _ = client.rcpt(rcpt)
                    assert code == 250, f"RCPT {code}"
                stage = "data"
                message.attempts += 1
                code, reply = client.data(message.data)
                if code == 250:
                    message.acked = True
                    with self.lock:
                        self.acks += 1
                        if self.kill_after is not None and self.acks >= self.kill_after:
                            self.reached.set()
                    return
                raise AssertionError(f"DATA answered {code} {reply!r}")
        except (OSError, smtplib.SMTPException, AssertionError) as error:
            if message.acked:
                return  # the connection died at QUIT, after the 250: delivered
            if stage == "data" and isinstance(error, (OSError, smtplib.SMTPServerDisconnected)):
                message.in_doubt += 1
            if isinstance(error, AssertionError) and "DATA answered" in str(error):
                raise
            self.give_back(message)

    def run(self):
        while True:
            message = self.take()
            if message is None:
                return
            self.send(message)

    def round(self, messages):
        """Starts the threads on every unacknowledged message; returns them."""
        self.queue = [m for m in messages if not m.acked]
        self.stop = False
        threads = [threading.Thread(target=self.run, daemon=True) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        return threads


def pop3_uidls(port, user):
    """{uidl: message number} of a mailbox (a POP3 session that ends with QUIT)."""
    client = poplib.POP3("127.0.0.1", port, timeout=scaled(30))
    try:
        client.user(user)
        client.pass_(PASSWORD)
        _, lines, _ = client.uidl()
        out = {}
        for line in lines:
            number, uidl = line.decode().split()
            out[uidl] = int(number)
        return out, client
    except Exception:
        client.close()
        raise


def message_id_of(client, number):
    _, lines, _ = client.top(number, 0)
    for line in lines:
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return None


class Ledger:
    """What POP3 showed: uidl -> Message-ID per user, checked across restarts."""

    def __init__(self):
        self.uidl_mid = {u: {} for u in USERS}

    def survey(self, port, acked_by_user):
        """Lists every mailbox; maps new UIDLs; checks old ones and acknowledged mail."""
        problems = []
        for user in USERS:
            uidls, client = pop3_uidls(port, user)
            try:
                known = self.uidl_mid[user]
                for uidl in known:
                    if uidl not in uidls:
                        problems.append(f"{user}: UIDL {uidl} ({known[uidl]}) vanished")
                for uidl, number in uidls.items():
                    if uidl not in known:
                        known[uidl] = message_id_of(client, number)
                counts = collections.Counter(known.values())
                for mid, count in counts.items():
                    if count > 1:
                        problems.append(f"{user}: {mid} stored {count} times")
                for mid in acked_by_user[user]:
                    if mid not in counts:
                        problems.append(f"{user}: acknowledged {mid} missing")
                client.quit()
            finally:
                client.close()
        return problems


def kill_test(server, kills, rng, checks):
    counter = iter(range(1, 10**9))
    messages = []
    ledger = Ledger()
    moments = []
    started = time.monotonic()

    def acked_by_user():
        out = {u: set() for u in USERS}
        for m in messages:
            if m.acked:
                for r in m.rcpts:
                    out[r].add(m.mid)
        return out

    problems = []
    for round_no in range(kills + 1):
        final = round_no == kills
        messages.extend(Message(next(counter), rng) for _ in range(0 if final else PER_ROUND))
        senders = Senders(server.ports["smtp"])
        # The moment: after a random number of this round's 250s, plus a random delay of up
        # to 5 ms, so every kill lands under load (mid-DATA, mid-commit, mid-staging...).
        kill_after = rng.randint(5, PER_ROUND * 3 // 4)
        delay = rng.uniform(0.0, 0.005)
        moment = None
        senders.kill_after = None if final else kill_after
        t0 = time.monotonic()
        threads = senders.round(messages)
        if final:
            for t in threads:
                t.join(scaled(120))
        else:
            if not senders.reached.wait(scaled(60)):
                raise AssertionError(f"no {kill_after} acks within the bound")
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline:
                pass  # busy-wait: a sub-millisecond-resolution offset
            moment = time.monotonic() - t0
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            server.proc = None
            moments.append(moment)
            with senders.lock:
                senders.stop = True
            for t in threads:
                t.join(scaled(60))
            status = server.cli("status", "--check", check=False)
            if status.returncode != 0:
                problems.append(f"kill {round_no + 1}: status --check: {status.stdout} {status.stderr}")
            server.start()
        problems += [f"after kill {round_no}: {p}" for p in ledger.survey(server.ports["pop3"],
                                                                          acked_by_user())]
        what = ("final round, no kill" if final else
                f"kill after {kill_after} acks + {delay * 1000:.2f} ms = {moment:.3f} s")
        print(f"round {round_no + 1}/{kills + 1}: {what}; acknowledged so far "
              f"{sum(m.acked for m in messages)}", flush=True)

    elapsed = time.monotonic() - started
    # Byte-exact, exactly once: RETR everything at the end.
    found = 0
    duplicated = 0
    expected = {}
    for m in messages:
        for r in m.rcpts:
            expected[(r, m.mid)] = m.data
    seen = set()
    for user in USERS:
        uidls, client = pop3_uidls(server.ports["pop3"], user)
        try:
            for uidl, number in uidls.items():
                _, lines, _ = client.retr(number)
                data = strip_trace(b"\r\n".join(lines) + b"\r\n")
                mid = None
                for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
                    if line.lower().startswith(b"message-id:"):
                        mid = line.split(b":", 1)[1].strip().decode()
                if ledger.uidl_mid[user].get(uidl) != mid:
                    problems.append(f"{user}: UIDL {uidl} was {ledger.uidl_mid[user].get(uidl)},"
                                    f" now {mid}")
                key = (user, mid)
                if key in seen:
                    duplicated += 1
                    problems.append(f"{user}: {mid} retrieved twice")
                    continue
                seen.add(key)
                if key not in expected:
                    problems.append(f"{user}: unexpected message {mid}")
                elif expected[key] != data:
                    problems.append(f"{user}: {mid} differs from what was sent "
                                    f"({len(data)} vs {len(expected[key])} bytes)")
                else:
                    found += 1
            client.quit()
        finally:
            client.close()
    acknowledged = sum(len(m.rcpts) for m in messages if m.acked)
    unacked = [m.mid for m in messages if not m.acked]
    in_doubt = sum(1 for m in messages if m.in_doubt)
    # Retries whose first copy had landed (its 250 died with the process): dedup answered 250
    # and stored nothing (the store's "duplicate-suppressed" events, one per mailbox).
    events = server.cli("events", "--limit", "100000").stdout.splitlines()
    suppressed = sum(1 for line in events if " duplicate-suppressed " in line)
    print(f"kill test: kills={kills} moments (s after the round's start)="
          + ",".join(f"{x:.3f}" for x in moments), flush=True)
    print(f"kill test: messages={len(messages)} acknowledged={acknowledged} (per mailbox) "
          f"found={found} duplicated={duplicated} in_doubt_retried={in_doubt} "
          f"of_them_landed_and_deduplicated={suppressed} never_acknowledged={len(unacked)} "
          f"elapsed={elapsed:.1f}s", flush=True)

    def verdict():
        if unacked:
            problems.append(f"{len(unacked)} messages never got a 250, e.g. {unacked[:3]}")
        if found != acknowledged:
            problems.append(f"found {found} of {acknowledged} acknowledged")
        if problems:
            raise AssertionError(f"{len(problems)} problems: " + "; ".join(problems[:12]))
    checks.run(f"{kills} kills under load: every 250 survives byte-exact, exactly once, "
               "UIDLs unchanged, status --check clean", verdict)


def quit_kill_test(server, rng, checks, rounds):
    """Kills postern around a POP3 QUIT that deletes: all or none of the deletions land."""
    outcomes = {"all": 0, "none": 0}
    problems = []

    def fill(tag):
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(20)) as client:
            for k in range(30):
                client.sendmail("s@sender.example.net", [USERS[0]],
                                f"Subject: {tag}-{k}\r\nMessage-ID: <{tag}-{k}@x>\r\n\r\n"
                                f"body {tag} {k}\r\n")

    # How long a deleting QUIT takes here (its commit and fsync): the kill offsets span it.
    fill("probe")
    before, client = pop3_uidls(server.ports["pop3"], USERS[0])
    for number in sorted(before.values())[:20]:
        client.dele(number)
    t0 = time.monotonic()
    client.quit()
    latency = time.monotonic() - t0
    client.close()
    print(f"a deleting QUIT takes {latency * 1000:.2f} ms; kills land in 0..{latency * 3000:.2f} ms",
          flush=True)
    for i in range(rounds):
        fill(f"q{i}")
        before, client = pop3_uidls(server.ports["pop3"], USERS[0])
        victims = rng.sample(sorted(before, key=before.get), 20)
        for uidl in victims:
            client.dele(before[uidl])
        offset = rng.uniform(0.0, latency * 3)
        client.sock.sendall(b"QUIT\r\n")
        deadline = time.monotonic() + offset
        while time.monotonic() < deadline:
            pass  # busy-wait: sub-millisecond offsets after QUIT
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()
        server.proc = None
        client.close()
        status = server.cli("status", "--check", check=False)
        if status.returncode != 0:
            problems.append(f"QUIT kill {i}: status --check: {status.stdout} {status.stderr}")
        server.start()
        after, client = pop3_uidls(server.ports["pop3"], USERS[0])
        client.quit()
        client.close()
        gone = [u for u in victims if u not in after]
        others_gone = [u for u in before if u not in after and u not in victims]
        if others_gone:
            problems.append(f"QUIT kill {i}: undeleted messages vanished: {others_gone[:3]}")
        if len(gone) == len(victims):
            outcomes["all"] += 1
        elif not gone:
            outcomes["none"] += 1
        else:
            problems.append(f"QUIT kill {i} at +{offset * 1000:.2f} ms: {len(gone)} of "
                            f"{len(victims)} deletions happened")
        print(f"QUIT kill {i + 1}/{rounds} at +{offset * 1000:.2f} ms after QUIT: "
              f"{len(gone)}/{len(victims)} deleted", flush=True)
    print(f"QUIT kills: all={outcomes['all']} none={outcomes['none']}", flush=True)

    def verdict():
        if problems:
            raise AssertionError("; ".join(problems))
    checks.run(f"{rounds} kills around a deleting QUIT: all or none of its deletions",
               verdict)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("postern")
    parser.add_argument("--kills", type=int,
                        default=int(os.environ.get("POSTERN_CRASH_KILLS", "20")))
    parser.add_argument("--seed", type=int,
                        default=int(os.environ.get("POSTERN_CRASH_SEED", "0")) or
                        random.SystemRandom().randrange(1, 10**6))
    args = parser.parse_args()
    print(f"seed={args.seed} kills={args.kills} (rerun: --seed {args.seed})", flush=True)
    rng = random.Random(args.seed)
    checks = Checks()
    server = Postern(args.postern)
    try:
        for user in USERS:
            server.add_user(user, PASSWORD)
        server.start()
        kill_test(server, args.kills, rng, checks)
        quit_kill_test(server, rng, checks, max(3, args.kills // 4))
        checks.closing(server)
    finally:
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
