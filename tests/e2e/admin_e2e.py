"""Admin end to end: what the CLI and the reload log say is what the running server does.

usage: admin_e2e.py POSTERN_BINARY

`postern set` on a running server: a port waits for a restart (the old port keeps
listening after SIGHUP, the new one does not), allow_duplicates applies at the SIGHUP
(the next retry is stored), and the reload log line names both. `postern events --json`
is parseable JSON lines; `postern events` speaks sentences. Piped passwords: two lines
that differ are refused. Typed passwords (a real pseudo-terminal): prompted twice on the
terminal, never echoed, refused when the two differ.
"""
import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import termios

from harness import Checks, Postern, scaled, wait_for

BINARY = sys.argv[1]
USER = "bob@example.org"
PASSWORD = "pw-of-bob-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_pop3(port):
    try:
        with socket.create_connection(("127.0.0.1", port), scaled(5)) as s:
            return s.recv(512).startswith(b"+OK")
    except OSError:
        return False


def send_twice(server):
    data = (f"From: alice@sender.example\r\nTo: {USER}\r\nSubject: twice\r\n"
            "Message-ID: <twice@sender.example>\r\n\r\nthe same body\r\n").encode()
    for _ in range(2):
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30)) as smtp:
            smtp.sendmail("alice@sender.example", [USER], data)
    return len([m for m in server.export().get(USER, []) if b"Subject: twice" in m])


def typed_on_terminal(server, args, lines):
    """Runs a CLI command with a pseudo-terminal as stdin, stdout and stderr, and types each
    line once its prompt is shown and echo is off (the state the command holds until the
    line is read, so this waits on no timing). Returns (exit code, all the terminal showed)."""
    master, slave = os.openpty()
    shown = bytearray()

    def read_shown():
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    return
                shown.extend(chunk)
        except BlockingIOError:
            return

    os.set_blocking(master, False)
    proc = subprocess.Popen([server.binary, *args, "--data", server.data], stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True)
    try:
        for n, line in enumerate(lines, start=1):
            def prompted_without_echo():
                read_shown()
                prompts = shown.count(b"New password: ") + shown.count(b"Repeat it: ")
                return prompts >= n and not termios.tcgetattr(slave)[3] & termios.ECHO
            wait_for(prompted_without_echo, 15, f"prompt {n} with echo off")
            os.write(master, line.encode() + b"\n")
        code = proc.wait(timeout=scaled(60))
        read_shown()
        return code, shown.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


def main():
    checks = Checks()
    server = Postern(BINARY)
    try:
        server.add_user(USER, PASSWORD)

        def differing_password_lines_refused():
            r = server.cli("user", "add", "amy@example.org", stdin="pw-of-amy-1\npw-of-amy-2\n",
                           check=False)
            assert r.returncode == 1, r
            assert "the two password lines on stdin differ" in r.stderr, r.stderr
            assert "amy@example.org" not in server.cli("user", "list").stdout
        checks.run("user add refuses two different piped password lines",
                   differing_password_lines_refused)

        def typed_password_not_echoed():
            code, shown = typed_on_terminal(server, ["user", "passwd", USER],
                                            ["typed-pw-42", "typed-pw-42"])
            assert code == 0, shown
            assert "New password: " in shown and "Repeat it: " in shown, shown
            assert "typed-pw-42" not in shown, shown
            latest = server.events("admin")[0]["fields"]
            assert latest == {"by": "cli", "action": "user-passwd", "address": USER}, latest
        checks.run("user passwd on a terminal prompts twice and echoes nothing",
                   typed_password_not_echoed)

        def typed_passwords_differ():
            before = len(server.events("admin"))
            code, shown = typed_on_terminal(server, ["user", "passwd", USER],
                                            ["typed-pw-43", "typed-pw-44"])
            assert code == 1, shown
            assert "the passwords differ" in shown, shown
            assert "typed-pw-4" not in shown, shown
            assert len(server.events("admin")) == before, "a refused change left an event"
        checks.run("user passwd on a terminal refuses two different passwords",
                   typed_passwords_differ)

        server.start()
        old_pop3 = server.ports["pop3"]
        new_pop3 = free_port()
        assert send_twice(server) == 1, "by default the retry is not stored"

        def set_port_says_restart():
            out = server.cli("set", "pop3_port", str(new_pop3)).stdout
            assert "uses pop3_port only after a restart" in out, out
            assert "SIGHUP" not in out, out
        checks.run("`set pop3_port` says it waits for a restart", set_port_says_restart)

        def set_switch_says_sighup():
            out = server.cli("set", "allow_duplicates", "yes").stdout
            assert "applies allow_duplicates on SIGHUP" in out, out
        checks.run("`set allow_duplicates` says SIGHUP applies it", set_switch_says_sighup)

        server.proc.send_signal(signal.SIGHUP)
        line = "event=reloaded applied=allow_duplicates waiting-for-restart=pop3_port"
        wait_for(lambda: line in server.log(), 15, "the reload log line")
        checks.run("the reload log line names what applied and what waits", lambda: None)

        def old_port_still_listens():
            assert answers_pop3(old_pop3), "the old POP3 port stopped answering"
            assert not answers_pop3(new_pop3), "the new POP3 port answers before a restart"
        checks.run("after SIGHUP the old POP3 port is still the one listening",
                   old_port_still_listens)

        def duplicates_now_stored():
            assert send_twice(server) == 3, "allow_duplicates was not applied by SIGHUP"
        checks.run("after SIGHUP allow_duplicates is in force", duplicates_now_stored)

        def events_json_parse():
            out = server.cli("events", "--json").stdout.splitlines()
            assert out, "no events"
            events = [json.loads(text) for text in out]
            for e in events:
                assert list(e) == ["time", "seq", "kind", "fields", "text"], e
            changes = [e["fields"] for e in events if e["kind"] == "admin"
                       and e["fields"].get("key") == "pop3_port"]
            # Newest first: this test's change, then the harness's own `set pop3_port 0`.
            assert changes[0] == {"by": "cli", "action": "set", "key": "pop3_port", "from": "0",
                                  "to": str(new_pop3)}, changes
        checks.run("`events --json` is one JSON object per line with the raw fields",
                   events_json_parse)

        def events_are_sentences():
            out = server.cli("events").stdout
            assert "Admin (cli) changed allow_duplicates from no to yes." in out, out
            assert "by=cli" not in out and "first_seen=" not in out, out
        checks.run("`events` speaks sentences, not key=value", events_are_sentences)

        checks.closing(server)
    finally:
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
