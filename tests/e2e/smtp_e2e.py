"""SMTP end to end: the real postern against swaks and Python's smtplib.

usage: smtp_e2e.py POSTERN_BINARY
"""
import concurrent.futures
import email
import hashlib
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import sys

from harness import Checks, Postern, scaled, strip_trace

BINARY = sys.argv[1]
PASSWORD = "correct horse battery"


def message(subject, body, message_id):
    return (f"From: alice@sender.example\r\nTo: bob@example.org\r\nSubject: {subject}\r\n"
            f"Message-ID: <{message_id}@sender.example>\r\n\r\n{body}").encode()


def smtp(server):
    return smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30))


def test_smtplib_byte_exact(server):
    body = "first line\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n"
    data = message("dots", body, "dots-1")
    with smtp(server) as client:
        client.ehlo("sender.example")
        refused = client.sendmail("alice@sender.example", ["bob@example.org"], data)
        assert refused == {}, refused
    stored = server.export()["bob@example.org"]
    assert any(strip_trace(m) == data for m in stored), "stored body differs from the sent bytes"
    first = stored[-1]
    assert first.startswith(b"Return-Path: <alice@sender.example>\r\nReceived: from sender.example")


def bodies(server):
    for line in server.cli("status").stdout.splitlines():
        if line.startswith("bodies"):
            return int(line.split()[1])
    raise AssertionError("postern status printed no bodies line")


def test_postmaster_without_alias(server):
    # RFC 5321 §4.5.1: postmaster (any letter case) at each of our domains, and bare, MUST be
    # accepted; with no postmaster mailbox or alias it reaches the domain's oldest mailbox.
    data = message("to the postmaster", "a report\r\n", "pm-1")
    with smtp(server) as client:
        client.ehlo("sender.example")
        refused = client.sendmail("alice@sender.example",
                                  ["Postmaster", "POSTMASTER@example.org", "postmaster@EXAMPLE.org"],
                                  data)
        assert refused == {}, refused
    stored = server.export()["bob@example.org"]
    assert sum(strip_trace(m) == data for m in stored) == 1, "postmaster mail must land once in bob's"


def test_single_instance_and_postmaster(server):
    server.add_user("carol@example.org", PASSWORD)
    server.cli("alias", "add", "postmaster@example.org", "carol@example.org")
    data = message("to three", "same body for everybody\r\n", "multi-1")
    bodies_before = bodies(server)
    with smtp(server) as client:
        client.ehlo("sender.example")
        refused = client.sendmail("alice@sender.example",
                                  ["bob@example.org", "carol@example.org", "Postmaster"], data)
        assert refused == {}, refused
    assert bodies(server) == bodies_before + 1, "one body must serve every recipient"
    boxes = server.export()
    assert sum(strip_trace(m) == data for m in boxes["carol@example.org"]) == 1, \
        "alias to the same mailbox must store one copy"
    assert sum(strip_trace(m) == data for m in boxes["bob@example.org"]) == 1


def test_relay_and_unknown_user_refused(server):
    with smtp(server) as client:
        client.ehlo("sender.example")
        client.mail("alice@sender.example")
        code, text = client.rcpt("victim@elsewhere.example")
        assert code == 550 and text.startswith(b"5.7.1"), (code, text)
        code, text = client.rcpt("nobody@example.org")
        assert code == 550 and text.startswith(b"5.1.1"), (code, text)
        code, text = client.rcpt("bob@example.org")
        assert code == 250, (code, text)
        client.rset()


def test_size_enforced(server):
    server_size = None
    with smtp(server) as client:
        client.ehlo("sender.example")
        server_size = int(client.esmtp_features["size"])
        code, text = client.mail("alice@sender.example", [f"SIZE={server_size + 1}"])
        assert code == 552 and text.startswith(b"5.3.4"), (code, text)


def swaks(server, *args):
    result = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.ports['smtp']}",
                             "--from", "alice@sender.example", "--to", "bob@example.org",
                             "--helo", "sender.example", *args],
                            capture_output=True, text=True, timeout=scaled(60))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_swaks_plain_tls_pipelining_attachment(server):
    if shutil.which("swaks") is None:
        print("SKIP swaks: not installed")
        return
    out = swaks(server, "--header", "Subject: swaks plain")
    assert "250 2.0.0" in out
    out = swaks(server, "--tls", "--header", "Subject: swaks tls")
    assert "TLS started" in out and "250 2.0.0" in out, out[-1500:]
    out = swaks(server, "--pipeline", "--header", "Subject: swaks pipelined")
    assert "250 2.0.0" in out
    attachment = os.path.join(server.dir, "blob.bin")
    payload = os.urandom(300_000)
    with open(attachment, "wb") as f:
        f.write(payload)
    swaks(server, "--tls", "--pipeline", "--header", "Subject: swaks attachment",
          "--attach", attachment)
    stored = [m for m in server.export()["bob@example.org"] if b"swaks attachment" in m]
    assert len(stored) == 1
    parsed = email.message_from_bytes(stored[0])
    parts = [p.get_payload(decode=True) for p in parsed.walk()
             if p.get_filename() or p.get_content_type() == "application/octet-stream"]
    assert payload in parts, "the attachment was not stored byte-exact"


def raw_session(server, payload):
    with socket.create_connection(("127.0.0.1", server.ports["smtp"]), timeout=scaled(30)) as s:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")


def test_bare_lf_smuggling_refused(server):
    before = len(server.export()["bob@example.org"])
    smuggled = (b"EHLO sender.example\r\nMAIL FROM:<alice@sender.example>\r\n"
                b"RCPT TO:<bob@example.org>\r\nDATA\r\n"
                b"Subject: outer\r\n\r\nouter body\n.\r\nMAIL FROM:<mallory@evil.example>\r\n"
                b"RCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n"
                b"QUIT\r\n")
    replies = raw_session(server, smuggled)
    after = server.export()["bob@example.org"]
    assert not any(b"smuggled" in m for m in after), "a smuggled message was stored"
    assert len(after) == before, "the message with a bare LF must be rejected, not stored"
    assert "550 5.6.0" in replies or "5.6." in replies, replies


def test_starttls_injection_discarded(server):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", server.ports["smtp"]), timeout=scaled(30)) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO a.example\r\n")
        while not f.readline().startswith(b"250 "):
            pass
        # CVE-2011-0411: the RSET rides in the same segment as STARTTLS.
        s.sendall(b"STARTTLS\r\nRSET\r\n")
        assert f.readline().startswith(b"220 2.0.0")
        with ctx.wrap_socket(s, server_hostname="postern.local") as t:
            t.sendall(b"NOOP\r\n")
            first = t.recv(4096)
            assert first.startswith(b"250 2.0.0"), first
            assert b"RSET" not in first and first.count(b"\r\n") == 1, first


def test_large_message(server):
    block = (b"x" * 998 + b"\r\n")
    data = message("big", "", "big-1") + block * (25 * 1024 * 1024 // len(block))
    with smtp(server) as client:
        client.ehlo("sender.example")
        assert client.sendmail("alice@sender.example", ["bob@example.org"], data) == {}
    digest = hashlib.sha256(data).hexdigest()
    stored = [m for m in server.export()["bob@example.org"] if b"Subject: big" in m[:4096]]
    assert len(stored) == 1 and hashlib.sha256(strip_trace(stored[0])).hexdigest() == digest


def test_concurrent_senders(server):
    senders, per_sender = 50, 20

    def send_all(n):
        with smtp(server) as client:
            client.ehlo(f"sender{n}.example")
            for i in range(per_sender):
                data = message(f"load {n}-{i}", f"message {n}-{i}\r\n", f"load-{n}-{i}")
                assert client.sendmail("alice@sender.example", ["bob@example.org"], data) == {}

    with concurrent.futures.ThreadPoolExecutor(max_workers=senders) as pool:
        for future in [pool.submit(send_all, n) for n in range(senders)]:
            future.result(timeout=scaled(300))
    stored = [m for m in server.export()["bob@example.org"] if b"Subject: load " in m]
    subjects = [email.message_from_bytes(m)["Subject"] for m in stored]
    assert len(subjects) == senders * per_sender, len(subjects)
    assert len(set(subjects)) == senders * per_sender, "a message was stored twice"


def main():
    checks = Checks()
    server = Postern(BINARY)
    try:
        server.add_user("bob@example.org", PASSWORD)
        server.start()
        checks.run("smtplib body is stored byte-exact, with trace headers", test_smtplib_byte_exact, server)
        checks.run("postmaster@ reaches the oldest mailbox without an alias", test_postmaster_without_alias, server)
        checks.run("one body for many recipients; Postmaster resolves", test_single_instance_and_postmaster, server)
        checks.run("relay and unknown users are refused", test_relay_and_unknown_user_refused, server)
        checks.run("SIZE is enforced at MAIL", test_size_enforced, server)
        checks.run("swaks plain, TLS, pipelining, attachment", test_swaks_plain_tls_pipelining_attachment, server)
        checks.run("bare LF never ends DATA nor smuggles a message", test_bare_lf_smuggling_refused, server)
        checks.run("plaintext pipelined after STARTTLS is discarded", test_starttls_injection_discarded, server)
        checks.run("a 25 MB message arrives byte-exact", test_large_message, server)
        checks.run("50 senders x 20 messages arrive exactly once", test_concurrent_senders, server)
        checks.closing(server)
    finally:
        if checks.failed:
            print(server.log())
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
