"""Hostile and odd peers on the SMTP port, end to end: HTTP clients (curl, a raw
request, one over STARTTLS), a command line that never ends, NUL and other control
bytes in commands (smtplib), and SMTPUTF8 addresses (smtplib, poplib).

usage: smtp_hostile_e2e.py POSTERN_BINARY
"""
import errno
import poplib
import smtplib
import socket
import ssl
import subprocess
import sys
import time

from harness import Checks, Postern, scaled

BINARY = sys.argv[1]
PASSWORD = "correct horse battery"
JOERG = "j\u00f6rg@b\u00fccher.example"  # jörg@bücher.example


def connect(server):
    s = socket.create_connection(("127.0.0.1", server.ports["smtp"]), timeout=scaled(30))
    return s, s.makefile("rb")


def read_to_eof(sock):
    """Everything the server still sends, up to its close; a reset after the close
    (the peer's unread input makes the kernel answer RST) counts as the close too."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_http_request_raw(server):
    s, f = connect(server)
    with s:
        assert f.readline().startswith(b"220 ")
        s.sendall(b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0\r\n"
                  b"Content-Type: text/plain\r\nContent-Length: 26\r\n\r\n"
                  b"MAIL FROM:<evil@example>\r\n")
        rest = f.read()  # to EOF: the connection must end after one reply
    lines = rest.split(b"\r\n")
    assert lines == [b"554 5.7.0 This is an SMTP mail server, not a web server; closing connection",
                     b""], rest
    for echoed in (b"POST", b"Host", b"Mozilla", b"evil"):
        assert echoed not in rest, rest


def test_http_request_curl(server):
    # curl as a browser stand-in; --http0.9 lets it print a reply that is not HTTP.
    result = subprocess.run(["curl", "-s", "--http0.9", "--max-time", str(scaled(20)),
                             "-H", "User-Agent: Mozilla/5.0",
                             f"http://127.0.0.1:{server.ports['smtp']}/index.html"],
                            capture_output=True, timeout=scaled(30))
    # curl exits 0 when the server closes after its reply (HTTP/0.9 ends at EOF).
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    lines = result.stdout.split(b"\r\n")
    assert len(lines) == 3 and lines[0].startswith(b"220 ") and lines[2] == b"", result.stdout
    assert lines[1].startswith(b"554 5.7.0 "), result.stdout
    assert b"index.html" not in result.stdout and b"Mozilla" not in result.stdout


def test_http_after_starttls(server):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s, f = connect(server)
    with s:
        f.readline()
        s.sendall(b"EHLO a.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"STARTTLS\r\n")
        assert f.readline().startswith(b"220 2.0.0")
        with ctx.wrap_socket(s, server_hostname="postern.local") as t:
            t.sendall(b"GET / HTTP/1.1\r\nHost: postern.local\r\n\r\n")
            rest = b""
            while True:
                try:
                    chunk = t.recv(4096)
                except (ssl.SSLEOFError, ConnectionResetError):
                    break
                if not chunk:
                    break
                rest += chunk
    assert rest == b"554 5.7.0 This is an SMTP mail server, not a web server; closing connection\r\n", rest


class LineReader:
    """Reply lines from a raw socket, keeping what follows for read_to_eof()."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError(f"EOF before a full line: {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line + b"\r\n"

    def rest(self):
        rest, self.buffer = self.buffer + read_to_eof(self.sock), b""
        return rest


def test_line_without_end(server):
    with socket.create_connection(("127.0.0.1", server.ports["smtp"]), timeout=scaled(30)) as s:
        r = LineReader(s)
        assert r.line().startswith(b"220 ")
        s.sendall(b"EHLO a.example\r\n")
        while not r.line().startswith(b"250 "):
            pass
        # 1 000 octets and no CRLF: the 500 must come now, while the client waits.
        started = time.monotonic()
        s.sendall(b"x" * 1000)
        first = r.line()
        elapsed = time.monotonic() - started
        assert first == b"500 5.5.6 Line too long; command lines are limited to 512 octets\r\n", first
        print(f"  500 5.5.6 after {elapsed * 1000:.1f} ms, with 1000 octets sent and no CRLF",
              flush=True)
        # Keep going to 100 KB: postern discards (bounded) and closes after 64 KiB.
        sent = 1000
        try:
            while sent < 100 * 1000:
                s.sendall(b"x" * 1000)
                sent += 1000
        except OSError as error:  # the server closed mid-send: EPIPE or ECONNRESET
            assert error.errno in (errno.EPIPE, errno.ECONNRESET), error
        rest = r.rest()
    assert rest.startswith(b"421 4.7.0 "), rest
    assert rest.count(b"\r\n") == 1 and b"xxx" not in rest, rest
    print(f"  then {rest.decode().strip()!r} with {sent} octets offered", flush=True)


def test_control_bytes(server):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30)) as client:
        client.ehlo("sender.example")
        code, text = client.mail("a\x00b@example.net")
        assert code == 501 and text.startswith(b"5.5.2"), (code, text)
        code, text = client.mail("a\x1bb@example.net")
        assert code == 501 and text.startswith(b"5.5.2"), (code, text)
        code, text = client.docmd("EHLO", "a\x00.example")
        assert code == 501 and text.startswith(b"5.5.2"), (code, text)
        # The session goes on and the next transaction is served.
        assert client.mail("ab@example.net")[0] == 250
        assert client.rcpt("bob@example.org")[0] == 250
        assert client.data(b"Subject: after NUL\r\n\r\nok\r\n")[0] == 250
    events = server.cli("events").stdout
    assert "\x00" not in server.log() and "\x00" not in events
    assert "a\x1bb" not in server.log() and "a\x1bb" not in events


def test_smtputf8(server):
    body = "Subject: gr\u00fc\u00dfe\r\n\r\nUTF-8 sender\r\n".encode()
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30)) as client:
        client.ehlo("sender.example")
        assert client.has_extn("smtputf8")
        code, text = client.mail(JOERG, ["SMTPUTF8", "BODY=8BITMIME"])
        assert code == 250, (code, text)
        assert client.rcpt("bob@example.org")[0] == 250
        # The address reaches the recipient lookup unchanged: unknown here, not a syntax error.
        code, text = client.rcpt("j\u00f6rg@example.org")
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        assert client.data(body)[0] == 250
    pop = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(30))
    try:
        pop.user("bob@example.org")
        pop.pass_(PASSWORD)
        found = []
        for n in range(1, pop.stat()[0] + 1):
            lines = pop.retr(n)[1]
            if body.split(b"\r\n")[0] in lines:
                found.append(lines)
    finally:
        pop.quit()
    assert len(found) == 1, len(found)
    head = b"\r\n".join(found[0][:4])
    assert found[0][0] == b"Return-Path: <" + JOERG.encode() + b">", head
    assert b" with UTF8SMTP id " in head, head


def test_utf8_without_smtputf8(server):
    s, f = connect(server)
    with s:
        f.readline()
        s.sendall(b"EHLO a.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        s.sendall(b"MAIL FROM:<" + JOERG.encode() + b">\r\n")
        reply = f.readline()
        assert reply.startswith(b"553 5.6.7 ") and b"SMTPUTF8" in reply, reply
        s.sendall(b"MAIL FROM:<a@example.net>\r\nRCPT TO:<" + JOERG.encode() + b">\r\nQUIT\r\n")
        assert f.readline().startswith(b"250 ")
        reply = f.readline()
        assert reply.startswith(b"553 5.6.7 "), reply
        # Malformed UTF-8 even with SMTPUTF8 is a syntax error that says so.
        s2, f2 = connect(server)
        with s2:
            f2.readline()
            s2.sendall(b"EHLO a.example\r\nMAIL FROM:<j\xc3@example.net> SMTPUTF8\r\n")
            while not f2.readline().startswith(b"250 "):
                pass
            reply = f2.readline()
            assert reply.startswith(b"501 5.1.7 ") and b"UTF-8" in reply, reply


def main():
    checks = Checks()
    server = Postern(BINARY)
    try:
        server.add_user("bob@example.org", PASSWORD)
        server.start()
        checks.run("an HTTP request gets one 554 reply, no echo, then EOF", test_http_request_raw, server)
        checks.run("curl on the SMTP port gets one reply and the close", test_http_request_curl, server)
        checks.run("HTTP after STARTTLS gets the same one reply and close", test_http_after_starttls, server)
        checks.run("100 KB without CRLF: 500 5.5.6 at once, then 421 and close", test_line_without_end, server)
        checks.run("NUL and ESC in commands are 501 5.5.2 and never logged", test_control_bytes, server)
        checks.run("SMTPUTF8: UTF-8 reverse-path stored, traced with UTF8SMTP", test_smtputf8, server)
        checks.run("UTF-8 without SMTPUTF8 is 553 5.6.7; malformed UTF-8 is 501", test_utf8_without_smtputf8, server)
        checks.closing(server)
    finally:
        if checks.failed:
            print(server.log())
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
