"""POP3 collectors end to end: sizes that agree to the octet, and sessions lost before QUIT.

usage: pop3_fetch_e2e.py POSTERN_BINARY

- A BDAT message whose last line has no CRLF, and a Unix (LF) Maildir file imported with
  `postern import`, are listed (LIST, STAT) at exactly the size RETR sends (RFC 1939 §11).
- REAL fetchmail (which downloads with "TOP n 99999999") and getmail6 (RETR), each in keep
  mode and in delete mode, lose their QUIT: a proxy cuts the link when the client sends it.
  The pop3-abnormal-end event must count the downloads and tell keep from delete, and the
  mail must all still be there (RFC 1939 §6).
Clients whose binary is missing are skipped with a SKIP line.
"""
import http.client
import json
import os
import poplib
import pwd
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile

from forwarder import Forwarder
from harness import Checks, Postern, scaled, strip_trace, wait_for

BINARY = sys.argv[1]
USER = "bob@example.org"
PASSWORD = "pw-of-bob-1"


def message(subject, body):
    return (f"From: alice@sender.example\r\nTo: {USER}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@sender.example>\r\n\r\n{body}").encode()


class QuitCutter(Forwarder):
    """Forwards POP3 both ways; when the client sends QUIT, cuts both links instead."""

    def __init__(self, target_port):
        self.commands = []  # client command verbs seen, for the record
        super().__init__(target_port)

    def new_link(self):
        return {"pending": b""}

    def upstream(self, data, link):
        link["pending"] += data
        out = b""
        while b"\n" in link["pending"]:
            line, link["pending"] = link["pending"].split(b"\n", 1)
            verb = line.split(b" ", 1)[0].strip().upper()
            self.commands.append(verb.decode(errors="replace"))
            if verb == b"QUIT":
                return out, True
            out += line + b"\n"
        return out, False


def send_bdat(server, data):
    """RFC 3030 BDAT over a raw socket: the body goes as is, no final CRLF added."""
    with socket.create_connection(("127.0.0.1", server.ports["smtp"]), scaled(30)) as sock:
        f = sock.makefile("rb")
        assert f.readline().startswith(b"220")
        sock.sendall(b"EHLO sender.example\r\n")
        while True:
            line = f.readline()
            if line[3:4] == b" ":
                break
        sock.sendall(f"MAIL FROM:<alice@sender.example>\r\nRCPT TO:<{USER}>\r\n".encode())
        assert f.readline().startswith(b"250")
        assert f.readline().startswith(b"250")
        sock.sendall(f"BDAT {len(data)} LAST\r\n".encode() + data)
        reply = f.readline()
        assert reply.startswith(b"250"), reply
        sock.sendall(b"QUIT\r\n")


def deliver(server, data):
    with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30)) as client:
        client.ehlo("sender.example")
        assert client.sendmail("alice@sender.example", [USER], data) == {}


def login(server):
    def attempt():
        try:
            client = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(30))
            client.user(USER)
            client.pass_(PASSWORD)
            return client
        except poplib.error_proto as error:
            if b"[IN-USE]" in error.args[0]:
                return None
            raise
    return wait_for(attempt, 10, "the maildrop lock")


def wire_retr(server, number):
    """The octets RETR sends before the terminator, stuffing removed, and the LIST size."""
    with socket.create_connection(("127.0.0.1", server.ports["pop3"]), scaled(30)) as sock:
        f = sock.makefile("rb")
        f.readline()
        sock.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\nLIST {number}\r\nRETR {number}\r\n"
                     .encode())
        f.readline()
        assert f.readline().startswith(b"+OK")
        listed = int(f.readline().split()[2])
        status = f.readline()
        assert status.startswith(b"+OK " + str(listed).encode() + b" octets"), status
        body = b""
        while True:
            line = f.readline()
            assert line.endswith(b"\r\n"), line  # every line on the wire ends in CRLF
            if line == b".\r\n":
                break
            body += line[1:] if line.startswith(b".") else line
        sock.sendall(b"QUIT\r\n")
        f.readline()
    return listed, body


def abnormal_events(server):
    return [e["text"] for e in server.events("pop3-abnormal-end")]


def field(line, key):
    for pair in line.split():
        if pair.startswith(key + "="):
            return pair[len(key) + 1:]
    return None


def new_abnormal_end(server, before):
    wait_for(lambda: len(abnormal_events(server)) > before, 15, "the pop3-abnormal-end event")
    return abnormal_events(server)[0]  # newest first


# --- checks ---

BDAT_BODY = message("bdat no crlf", "first line\r\n.dotted\r\nlast line without CRLF")
LF_FILE = b"From: carol@unix.example\nSubject: from a Unix maildir\n\nline one\n.dot line\nend\n"


def test_bdat_sizes_agree(server):
    send_bdat(server, BDAT_BODY)
    client = login(server)
    try:
        count, octets = client.stat()
        _, listing, _ = client.list()
        sizes = [int(line.split()[1]) for line in listing]
        assert sum(sizes) == octets and len(sizes) == count
        client.quit()
    finally:
        client.close()
    listed, body = wire_retr(server, count)
    assert len(body) == listed, f"LIST {listed} but RETR sent {len(body)}"
    assert strip_trace(body) == BDAT_BODY + b"\r\n", body[-80:]


def test_imported_lf_maildir_sizes_agree(server):
    folder = os.path.join(server.dir, "import", USER, "cur")
    os.makedirs(folder)
    with open(os.path.join(folder, "1700000000.M1P1.unix:2,"), "wb") as f:
        f.write(LF_FILE)
    server.cli("import", "--maildir", os.path.join(server.dir, "import"))


def test_imported_message_served(server):
    client = login(server)
    try:
        count, _ = client.stat()
        client.quit()
    finally:
        client.close()
    found = None
    for number in range(1, count + 1):
        listed, body = wire_retr(server, number)
        assert len(body) == listed, f"message {number}: LIST {listed}, RETR {len(body)}"
        if b"Unix maildir" in body:
            found = body
    assert found == LF_FILE.replace(b"\n", b"\r\n"), found


def fetchmail(server, home, port, delete):
    keep = not delete
    mbox = os.path.join(home, "mbox")
    rc = os.path.join(home, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(f"poll 127.0.0.1 service {port} protocol pop3 uidl\n"
                f'  user "{USER}" password "{PASSWORD}" {"keep" if keep else "nokeep"} '
                f"sslproto ''\n"
                f'  mda "cat >> {mbox}"\n')
    os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)
    env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
    result = subprocess.run(["fetchmail", "-f", rc, "--idfile", os.path.join(home, "ids"),
                             "--nodetach", "--norewrite", "-v", "-v"],
                            capture_output=True, text=True, env=env, timeout=scaled(120))
    with open(mbox, "rb") as f:
        return f.read(), result.stdout + result.stderr


def getmail(server, home, port, delete):
    # getmail6 refuses to deliver as root: as root, run it as nobody in a home of its own.
    as_user = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        home = tempfile.mkdtemp(prefix="postern-getmail-")
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
        as_user = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    maildir = os.path.join(home, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
        if as_user:
            os.chown(os.path.join(maildir, sub), as_user["user"], as_user["group"])
    if as_user:
        os.chown(maildir, as_user["user"], as_user["group"])
    with open(os.path.join(home, "getmailrc"), "w") as f:
        f.write(f"[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {port}\n"
                f"username = {USER}\npassword = {PASSWORD}\n"
                f"[destination]\ntype = Maildir\npath = {maildir}/\n"
                f"[options]\ndelete = {'true' if delete else 'false'}\nread_all = true\n"
                f"verbose = 2\n")
    if as_user:
        os.chown(os.path.join(home, "getmailrc"), as_user["user"], as_user["group"])
    proc = subprocess.Popen(["getmail", "--getmaildir", home, "--rcfile", "getmailrc"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, HOME=home), **as_user)
    try:
        output, _ = proc.communicate(timeout=scaled(120))
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        raise AssertionError("getmail hung: " + output[-2000:])
    fetched = b""
    for name in sorted(os.listdir(os.path.join(maildir, "new"))):
        with open(os.path.join(maildir, "new", name), "rb") as f:
            fetched += f.read()
    if as_user:
        shutil.rmtree(home, ignore_errors=True)
    return fetched, output


def lost_quit(server, name, client_fn, destructive, expect_mode):
    """Runs a collector through QuitCutter; checks the event and that nothing was removed."""
    client = login(server)
    count, _ = client.stat()
    client.quit()
    client.close()
    assert count >= 2, count
    home = os.path.join(server.dir, name)
    os.makedirs(home)
    before = len(abnormal_events(server))
    cutter = QuitCutter(server.ports["pop3"])
    try:
        fetched, output = client_fn(server, home, cutter.port, destructive)
    finally:
        cutter.close()
    assert cutter.cuts == 1, f"the client never sent QUIT: {cutter.commands}\n{output[-2000:]}"
    assert fetched.count(b"\nSubject: ") >= count, (cutter.commands, output[-2000:])
    event = new_abnormal_end(server, before)
    assert field(event, "user") == USER, event
    assert field(event, "reason") == "disconnect", event
    assert field(event, "retrieved") == str(count), (event, cutter.commands)
    assert field(event, "mode") == expect_mode, event
    expected_deleted = str(count) if destructive else "0"
    assert field(event, "marked_deleted") == expected_deleted, (event, cutter.commands)
    client = login(server)  # RFC 1939 §6: no QUIT, no UPDATE: every message is still there
    try:
        assert client.stat()[0] == count
        client.quit()
    finally:
        client.close()
    return cutter.commands


def test_fetchmail_keep_lost_quit(server):
    if shutil.which("fetchmail") is None:
        print("SKIP fetchmail: not installed", flush=True)
        return
    commands = lost_quit(server, "fetchmail-keep", fetchmail, False, "keep")
    print(f"     fetchmail keep sent: {' '.join(sorted(set(commands)))}", flush=True)


def test_fetchmail_delete_lost_quit(server):
    if shutil.which("fetchmail") is None:
        print("SKIP fetchmail: not installed", flush=True)
        return
    commands = lost_quit(server, "fetchmail-delete", fetchmail, True, "delete")
    assert "DELE" in commands, commands


def test_getmail_keep_lost_quit(server):
    if shutil.which("getmail") is None:
        print("SKIP getmail6: not installed", flush=True)
        return
    commands = lost_quit(server, "getmail-keep", getmail, False, "keep")
    assert "RETR" in commands and "DELE" not in commands, commands


def test_getmail_delete_lost_quit(server):
    if shutil.which("getmail") is None:
        print("SKIP getmail6: not installed", flush=True)
        return
    commands = lost_quit(server, "getmail-delete", getmail, True, "delete")
    assert "RETR" in commands and "DELE" in commands, commands


def killed_mid_batch(server, name, delete):
    """kill -9 fetchmail while its MDA holds message 2: the server saw 2 downloads."""
    client = login(server)
    count, _ = client.stat()
    client.quit()
    client.close()
    assert count >= 3, count
    home = os.path.join(server.dir, name)
    os.makedirs(home)
    mbox, flag = os.path.join(home, "mbox"), os.path.join(home, "holding")
    mda = os.path.join(home, "mda.sh")
    with open(mda, "w") as f:  # delivers, and on the second message stalls as if stuck
        f.write(f"#!/bin/sh\ncat >> {mbox}\n"
                f"if [ $(grep -c '^Subject: ' {mbox}) -ge 2 ]; then touch {flag}; sleep 600; fi\n")
    os.chmod(mda, 0o700)
    rc = os.path.join(home, "fetchmailrc")
    with open(rc, "w") as f:
        f.write(f"poll 127.0.0.1 service {server.ports['pop3']} protocol pop3 uidl\n"
                f'  user "{USER}" password "{PASSWORD}" {"nokeep" if delete else "keep"} '
                f"sslproto ''\n  mda \"{mda}\"\n")
    os.chmod(rc, stat.S_IRUSR | stat.S_IWUSR)
    before = len(abnormal_events(server))
    proc = subprocess.Popen(["fetchmail", "-f", rc, "--idfile", os.path.join(home, "ids"),
                             "--nodetach", "--norewrite"],
                            env=dict(os.environ, HOME=home, FETCHMAILHOME=home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: os.path.exists(flag), 60, "fetchmail to hold message 2")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # fetchmail, its MDA and the sleep
        proc.wait()
    event = new_abnormal_end(server, before)
    assert field(event, "reason") == "disconnect", event
    assert field(event, "retrieved") == "2", event
    assert field(event, "marked_deleted") == ("1" if delete else "0"), event
    assert field(event, "mode") == ("delete" if delete else "keep"), event
    client = login(server)
    try:
        assert client.stat()[0] == count, "a message went without QUIT"
        client.quit()
    finally:
        client.close()


def test_fetchmail_keep_killed(server):
    if shutil.which("fetchmail") is None:
        print("SKIP fetchmail: not installed", flush=True)
        return
    killed_mid_batch(server, "fetchmail-kill-keep", False)


def test_fetchmail_delete_killed(server):
    if shutil.which("fetchmail") is None:
        print("SKIP fetchmail: not installed", flush=True)
        return
    killed_mid_batch(server, "fetchmail-kill-delete", True)


def page_status(server):
    """The status page's JSON, as the page gets it: set-up link from the log, then a session."""
    with open(server.stderr_path, "rb") as f:  # the whole log: log() keeps only its tail
        token = re.findall(rb"/setup#(\S+)", f.read())[-1].decode()  # the newest start's link
    port = server.ports["http"]
    origin = f"http://127.0.0.1:{port}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(30))
    conn.request("POST", "/api/setup",
                 json.dumps({"token": token, "password": "admin-password-123"}),
                 {"Content-Type": "application/json", "Origin": origin,
                  "Sec-Fetch-Site": "same-origin"})
    reply = conn.getresponse()
    body = reply.read()
    assert reply.status == 200, (reply.status, body)
    cookie = reply.getheader("Set-Cookie").split(";", 1)[0]
    conn.request("GET", "/api/status", headers={"Cookie": cookie})
    reply = conn.getresponse()
    body = reply.read()
    assert reply.status == 200, (reply.status, body)
    return json.loads(body)


def test_page_explains_the_last_drop(server):
    """The newest drop was fetchmail in delete mode, killed after DELE 1: the page says so."""
    groups = page_status(server)["health"]["abnormal_ends"]
    mine = [g for g in groups if g["user"] == USER]
    assert len(mine) == 1, groups
    text = mine[0]["explanation"]
    assert "asked to delete 1 message," in text, text
    assert ("this message stays on the server and your client will download it again next "
            "time, because it never said QUIT") in text, text


def main():
    checks = Checks()
    server = Postern(BINARY)
    try:
        server.add_user(USER, PASSWORD)
        server.start()
        deliver(server, message("plain one", "hello\r\n"))
        deliver(server, message("plain two", "world\r\n.with a dot\r\n"))
        for name, fn in (
            ("a BDAT body without a final CRLF: LIST, STAT and RETR agree",
             test_bdat_sizes_agree),
            ("postern import takes a Unix (LF) Maildir file", test_imported_lf_maildir_sizes_agree),
        ):
            checks.run(name, fn, server)
        server.stop()
        server.start()
        for name, fn in (
            ("the imported LF file is served with CRLF lines at its listed size",
             test_imported_message_served),
            ("fetchmail keep, QUIT lost: event mode=keep with every download counted",
             test_fetchmail_keep_lost_quit),
            ("fetchmail delete, QUIT lost: event mode=delete, nothing removed",
             test_fetchmail_delete_lost_quit),
            ("getmail6 keep (RETR), QUIT lost: event mode=keep", test_getmail_keep_lost_quit),
            ("getmail6 delete, QUIT lost: event mode=delete, nothing removed",
             test_getmail_delete_lost_quit),
            ("kill -9 of fetchmail (keep) mid-batch: retrieved=2 mode=keep",
             test_fetchmail_keep_killed),
            ("kill -9 of fetchmail (delete) mid-batch: marked_deleted=1 mode=delete, none lost",
             test_fetchmail_delete_killed),
            ("the status page explains what happens next, in the singular",
             test_page_explains_the_last_drop),
        ):
            checks.run(name, fn, server)
        checks.closing(server)
    finally:
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
