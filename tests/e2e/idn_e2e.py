"""SMTPUTF8 and international domains end to end: CLI, smtplib, swaks and poplib.

usage: idn_e2e.py POSTERN_BINARY

The mailbox is created as jörg@xn--bcher-kva.example (A-label) and reached as
jörg@bücher.example (U-label), in NFD, in upper case; mail goes in with Python's smtplib
(SMTPUTF8) and comes out with poplib logging in with a UTF-8 user name. swaks 2020 cannot
ask for SMTPUTF8: it reaches the A-label domain with an ASCII local part, and its UTF-8
RCPT must get 553 5.6.7 (RFC 6531 §3.4). The page's admin API is driven over HTTP with
Python's http.client, as the page's script does. Every check prints "ok"/"FAIL"; exit 1 on any FAIL.
"""
import http.client
import json
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import unicodedata

from harness import Checks, Postern, scaled, strip_trace, wait_for

BINARY = sys.argv[1]
A_LABEL = "xn--bcher-kva.example"
U_LABEL = "bücher.example"
JOERG = "jörg@" + A_LABEL  # as created
JOERG_NFD = unicodedata.normalize("NFD", "JÖRG") + "@" + U_LABEL.upper()
BOB = "bob@" + A_LABEL  # ASCII local part on the IDN domain
PASSWORD = "pw-of-jörg"


def message(to, subject):
    return (f"From: alice@sender.example\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@sender.example>\r\n\r\nbody of {subject}\r\n").encode()


def read_reply(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed; got {data!r}")
        data += chunk
        lines = data.split(b"\r\n")
        if len(lines) >= 2 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return data


def smtp_dialogue(server, commands):
    """Raw SMTP, one command at a time: the last reply line of each, as bytes."""
    replies = []
    with socket.create_connection(("127.0.0.1", server.ports["smtp"]), scaled(30)) as sock:
        read_reply(sock)
        for command in commands:
            sock.sendall(command + b"\r\n")
            replies.append(read_reply(sock).split(b"\r\n")[-2])
    return replies


def send_utf8(server, recipients, data):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30)) as client:
        client.ehlo("sender.example")
        assert client.has_extn("smtputf8"), "SMTPUTF8 is not advertised"
        refused = client.sendmail("alice@sender.example", recipients, data,
                                  mail_options=["SMTPUTF8"])
        assert refused == {}, refused


def pop3_messages(server, user, password):
    client = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(30))
    try:
        client.user(user)  # poplib sends the name as UTF-8
        client.pass_(password)
        count, _ = client.stat()
        out = []
        for n in range(1, count + 1):
            _, lines, _ = client.retr(n)
            out.append(strip_trace(b"\r\n".join(lines) + b"\r\n"))
        client.quit()
        return out
    finally:
        client.close()


# --- CLI ---

def test_cli_domain_forms(server):
    added = server.cli("domain", "add", U_LABEL).stdout
    assert f"{U_LABEL} ({A_LABEL})" in added, added
    again = server.cli("domain", "add", A_LABEL.upper(), check=False)
    assert again.returncode == 1 and "already exists" in again.stderr, again.stderr
    listed = server.cli("domain", "list").stdout.splitlines()
    assert [line.split() for line in listed] == [[U_LABEL, A_LABEL]], listed


def test_cli_bad_domain_names_the_problem(server):
    for name, expected in (
            ("ex ample.org", "'ex ample.org' is not a valid domain name: spaces are not allowed"),
            ("exa_mple.org", "the label 'exa_mple' has '_'"),
            ("-x.example", "the label '-x' starts or ends with a hyphen"),
            ("xn--zz.example", "the label 'xn--zz' is not valid under IDNA2008"),
            ("a" * 64 + ".example", "is longer than 63 octets"),
            ("a..b", "it has an empty label")):
        result = server.cli("domain", "add", name, check=False)
        assert result.returncode == 1, (name, result.returncode)
        assert expected in result.stderr, (name, result.stderr)
        assert "bob@example.org" not in result.stderr, result.stderr


def test_cli_users_in_every_form(server):
    server.cli("user", "add", JOERG, stdin=PASSWORD + "\n")
    server.cli("user", "add", BOB, stdin=PASSWORD + "\n")
    for same in ("jörg@" + U_LABEL, JOERG_NFD):
        dup = server.cli("user", "add", same, stdin=PASSWORD + "\n", check=False)
        assert dup.returncode == 1 and "already exists" in dup.stderr, (same, dup.stderr)
    listed = server.cli("user", "list").stdout
    assert f"jörg@{U_LABEL}" in listed and JOERG in listed, listed
    server.cli("alias", "add", "verkauf@" + U_LABEL, "JÖRG@" + A_LABEL)
    aliases = server.cli("alias", "list").stdout
    assert f"verkauf@{U_LABEL} -> jörg@{U_LABEL}" in aliases, aliases


def test_cli_bad_local_part_names_the_problem(server):
    for address, expected in (
            ("jö rg@" + U_LABEL, "in the local part, spaces are not allowed"),
            ("a..b@" + U_LABEL, "must not start or end with a dot"),
            ("a(b)@" + U_LABEL, "the local part has '('"),
            ("x" * 65 + "@" + U_LABEL, "the local part is 65 octets long"),
            ("bob", "it needs a local part, '@' and a domain")):
        result = server.cli("user", "add", address, stdin=PASSWORD + "\n", check=False)
        assert result.returncode == 1 and expected in result.stderr, (address, result.stderr)
    # Bytes that are not UTF-8 cannot pass through subprocess text mode: use bytes.
    raw = subprocess.run([server.binary, "user", "add", b"j\xf6rg@x.example", "--data",
                          server.data], input=b"pw-long-enough\n", capture_output=True,
                         timeout=scaled(60))
    assert raw.returncode == 1 and b"not valid UTF-8" in raw.stderr, raw.stderr


# --- SMTP and POP3 ---

def test_swaks_ascii_local_part_on_a_label_domain(server):
    """Needs no SMTPUTF8: an ASCII address on the A-label domain, through swaks."""
    if shutil.which("swaks") is None:
        print("SKIP swaks not installed")
        return
    result = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.ports['smtp']}",
                             "--from", "alice@sender.example", "--to", BOB,
                             "--helo", "sender.example", "--header", "Subject: swaks-bob"],
                            capture_output=True, text=True, timeout=scaled(60))
    assert result.returncode == 0, result.stdout[-2000:]


def test_swaks_without_smtputf8_gets_553(server):
    """swaks 2020 cannot send the SMTPUTF8 parameter: a UTF-8 RCPT must be 553 5.6.7."""
    if shutil.which("swaks") is None:
        print("SKIP swaks not installed")
        return
    result = subprocess.run(["swaks", "--server", f"127.0.0.1:{server.ports['smtp']}",
                             "--from", "alice@sender.example", "--to", "jörg@" + U_LABEL,
                             "--helo", "sender.example"],
                            capture_output=True, text=True, timeout=scaled(60))
    assert result.returncode != 0, result.stdout[-2000:]
    assert "<** 553 5.6.7" in result.stdout, result.stdout[-2000:]


def test_raw_rcpt_replies(server):
    replies = smtp_dialogue(server, [
        b"EHLO sender.example",
        b"MAIL FROM:<alice@sender.example> SMTPUTF8",
        "RCPT TO:<jörg@bücher.example>".encode(),
        "RCPT TO:<verkauf@xn--bcher-kva.example>".encode(),
        "RCPT TO:<niemand@bücher.example>".encode(),
        "RCPT TO:<jörg@münchen.example>".encode(),
        b"QUIT"])
    assert replies[2].startswith(b"250"), replies[2]
    assert replies[3].startswith(b"250"), replies[3]
    assert replies[4].startswith(b"550"), replies[4]  # our domain, no such mailbox
    assert replies[5].startswith(b"55"), replies[5]  # not our domain: never a relay


def test_smtputf8_delivery_in_every_form(server):
    send_utf8(server, ["jörg@" + U_LABEL], message("jörg@" + U_LABEL, "u-label"))
    send_utf8(server, [JOERG_NFD], message(JOERG_NFD, "nfd-upper"))
    send_utf8(server, ["verkauf@" + U_LABEL], message("verkauf@" + U_LABEL, "alias"))
    send_utf8(server, ["bob@" + U_LABEL], message("bob@" + U_LABEL, "bob-u-label"))


def test_pop3_login_with_utf8_user(server):
    got = pop3_messages(server, "jörg@" + U_LABEL, PASSWORD)
    subjects = sorted(m.split(b"Subject: ")[1].split(b"\r\n")[0] for m in got)
    assert subjects == [b"alias", b"nfd-upper", b"u-label"], subjects
    assert message("jörg@" + U_LABEL, "u-label") in got


def test_pop3_login_with_a_label_and_ascii_user(server):
    got = pop3_messages(server, "BOB@" + A_LABEL.upper(), PASSWORD)
    subjects = sorted(m.split(b"Subject: ")[1].split(b"\r\n")[0] for m in got)
    expected = [b"bob-u-label"]
    if shutil.which("swaks") is not None:
        expected.append(b"swaks-bob")
    assert subjects == expected, subjects


# --- the page's admin API ---

class Page:
    """The status page's JSON API after the first-start setup: session cookie + CSRF token."""

    def __init__(self, server):
        self.port = server.ports["http"]
        self.origin = f"http://127.0.0.1:{self.port}"
        link = wait_for(lambda: re.search(r"/setup#(\w+)", server.log()), 30, "the setup link")
        status, body, headers = self.call("POST", "/api/setup",
                                          {"token": link.group(1), "password": "admin password"})
        assert status == 200, (status, body)
        self.cookie = headers["Set-Cookie"].split(";")[0]
        self.csrf = body["csrf"]

    def call(self, method, path, payload=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=scaled(30))
        try:
            headers = {"Host": f"127.0.0.1:{self.port}", "Origin": self.origin}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            if getattr(self, "cookie", None):
                headers["Cookie"] = self.cookie
                headers["X-CSRF-Token"] = self.csrf
            body = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else {}, response.headers
        finally:
            conn.close()


def test_page_domains_and_users(page):
    status, body, _ = page.call("POST", "/api/domains", {"action": "add",
                                                         "name": "xn--mnchen-3ya.example"})
    assert status == 200, (status, body)
    status, body, _ = page.call("POST", "/api/domains", {"action": "add",
                                                         "name": "MÜNCHEN.example"})
    assert status == 422 and "already exists" in body["error"], (status, body)
    status, body, _ = page.call("POST", "/api/users", {"action": "add",
                                                       "address": "zoë@münchen.example",
                                                       "password": "pw-of-zoë-1"})
    assert status == 200, (status, body)
    status, boxes, _ = page.call("GET", "/api/mailboxes")
    assert status == 200, (status, boxes)
    names = [d["name"] for d in boxes["domains"]]
    assert "münchen.example" in names and U_LABEL in names, names
    addresses = [u["address"] for u in boxes["users"]]
    assert "zoë@münchen.example" in addresses and f"jörg@{U_LABEL}" in addresses, addresses
    # The form the page shows is the form it sends back: remove by it, and by the A-label.
    status, body, _ = page.call("POST", "/api/users", {"action": "remove",
                                                       "address": "ZOË@xn--mnchen-3ya.example"})
    assert status == 200, (status, body)
    status, body, _ = page.call("POST", "/api/domains", {"action": "remove",
                                                         "name": "münchen.example"})
    assert status == 200, (status, body)


def test_page_errors_name_the_problem(page):
    status, body, _ = page.call("POST", "/api/domains", {"action": "add", "name": "exa_mple.org"})
    assert status == 422, (status, body)
    assert body["error"].startswith("'exa_mple.org' is not a valid domain name: the label "
                                    "'exa_mple' has '_'"), body
    status, body, _ = page.call("POST", "/api/users", {"action": "add", "address": "a..b@x.org",
                                                       "password": "long enough"})
    assert status == 422 and "must not start or end with a dot" in body["error"], body


def main():
    checks = Checks()
    server = Postern(BINARY)
    try:
        checks.run("CLI: a U-label domain is stored once, listed in both forms",
                   test_cli_domain_forms, server)
        checks.run("CLI: bad domains say what is wrong", test_cli_bad_domain_names_the_problem,
                   server)
        checks.run("CLI: a UTF-8 mailbox is one user in every form", test_cli_users_in_every_form,
                   server)
        checks.run("CLI: bad local parts say what is wrong",
                   test_cli_bad_local_part_names_the_problem, server)
        server.start()
        checks.run("swaks: ASCII local part on the A-label domain",
                   test_swaks_ascii_local_part_on_a_label_domain, server)
        checks.run("swaks: UTF-8 RCPT without SMTPUTF8 is 553 5.6.7",
                   test_swaks_without_smtputf8_gets_553, server)
        checks.run("raw SMTP: RCPT in U-label, A-label, unknown and foreign forms",
                   test_raw_rcpt_replies, server)
        checks.run("smtplib SMTPUTF8: delivered in U-label, NFD and alias forms",
                   test_smtputf8_delivery_in_every_form, server)
        checks.run("poplib: UTF-8 user name logs in and retrieves",
                   test_pop3_login_with_utf8_user, server)
        checks.run("poplib: A-label user name logs in to the same store",
                   test_pop3_login_with_a_label_and_ascii_user, server)
        page = Page(server)
        checks.run("page: IDN domains and UTF-8 users in both forms", test_page_domains_and_users,
                   page)
        checks.run("page: bad names say what is wrong", test_page_errors_name_the_problem, page)
        checks.closing(server)
    finally:
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
