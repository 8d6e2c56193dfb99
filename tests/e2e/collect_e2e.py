#!/usr/bin/env python3
"""Collecting external mailboxes: postern against a private Dovecot on loopback.

Dovecot (root: its master binds and drops privileges; exit 77 = skipped otherwise) serves
four remote mailboxes over plain POP3 (with STLS) and POP3S, with a certificate from a test
CA made here with openssl; postern trusts that CA through SSL_CERT_FILE. Checked: POP3S,
STLS and plain collection; collect, restart, collect again: each mail exactly once;
"delete once collected" empties the remote mailbox only after the local commit; a
certificate that does not match the host name is reported with its fingerprint and nothing
is collected, and pinning that fingerprint then collects; kill -9 in the middle of a run,
restart: each mail exactly once; a link cut in the middle of a RETR: the next run
completes, nothing lost or doubled.
Usage: collect_e2e.py POSTERN_BINARY
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid

from forwarder import Forwarder
from harness import Checks, Postern, scaled, wait_for

PASSWORD = "remote-secret"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True,
                   timeout=scaled(60))


def make_ca(dir):
    """A test CA and a server certificate for DNS:localhost only (not 127.0.0.1)."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-days", "2", "-subj", "/CN=postern test CA", "-keyout", "ca.key", "-out", "ca.pem",
            cwd=dir)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
            "/CN=localhost", "-keyout", "server.key", "-out", "server.csr", cwd=dir)
    with open(os.path.join(dir, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem", cwd=dir)
    der = subprocess.run(["openssl", "x509", "-in", "server.pem", "-outform", "DER"], cwd=dir,
                         check=True, capture_output=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()


def message(tag, n, size=600):
    body = (f"line {n} of {tag} " * 8 + "\r\n") * max(1, size // 120)
    return (f"From: sender@example.com\r\nTo: {tag}@example.net\r\nSubject: {tag} {n}\r\n"
            f"Message-ID: <{tag}.{n}@example.com>\r\n\r\n.leading dot {n}\r\n{body}").encode()


def add_remote(maildirs, user, messages):
    box = os.path.join(maildirs, user)
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(box, sub), exist_ok=True)
    for i, data in enumerate(messages):
        name = f"{1700000000 + i}.M{uuid.uuid4().hex}P1.test"
        with open(os.path.join(box, "new", name), "wb") as f:
            f.write(data)
    subprocess.run(["chown", "-R", "nobody:nogroup", box], check=True)


def remote_count(maildirs, user):
    box = os.path.join(maildirs, user)
    return sum(len(os.listdir(os.path.join(box, sub))) for sub in ("new", "cur"))


class Dovecot:
    def __init__(self, dir, maildirs, users):
        self.dir = dir
        self.port = free_port()
        self.tls_port = free_port()
        os.makedirs(os.path.join(dir, "run"))
        os.makedirs(os.path.join(dir, "state"))
        os.chmod(dir, 0o755)
        uid = int(subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout)
        gid = int(subprocess.run(["getent", "group", "nogroup"], capture_output=True,
                                 text=True).stdout.split(":")[2])
        with open(os.path.join(dir, "users"), "w") as f:
            for user in users:
                f.write(f"{user}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{maildirs}/{user}\n")
        conf = os.path.join(dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"""base_dir = {dir}/run
state_dir = {dir}/state
instance_name = dovecot-collect-{self.port}
log_path = {dir}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
}}
mail_location = maildir:~
first_valid_uid = {uid}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.tls_port}
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
        self.conf = conf
        subprocess.run(["dovecot", "-c", conf], check=True, timeout=scaled(30))

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=1).close()
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, 10, "dovecot listening")

    def stop(self):
        subprocess.run(["doveadm", "-c", self.conf, "stop"], capture_output=True)


class CuttingProxy(Forwarder):
    """Forwards to Dovecot; the first link is cut `cut_after` server bytes after a RETR."""

    def __init__(self, target_port, cut_after):
        self.cut_after = cut_after
        super().__init__(target_port)

    def new_link(self):
        return {"retr": False, "sent": 0, "cut": self.cuts == 0}

    def upstream(self, data, link):
        if b"RETR" in data:
            link["retr"] = True
        return data, False

    def downstream(self, data, link):
        if link["cut"] and link["retr"]:
            room = self.cut_after - link["sent"]
            if len(data) >= room:
                link["cut"] = False
                return data[:room], True
            link["sent"] += len(data)
        return data, False


def main():
    if os.geteuid() != 0 or shutil.which("dovecot") is None or \
            not os.path.exists("/usr/lib/dovecot/pop3"):
        print("SKIP: needs root and the dovecot-core, dovecot-pop3d packages")
        sys.exit(77)
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="postern-collect-")
    os.chmod(work, 0o755)
    fingerprint = make_ca(work)
    maildirs = os.path.join(work, "maildirs")
    users = ["one@example.net", "two@example.net", "three@example.net", "big@example.net",
             "cut@example.net"]
    for user in users:
        add_remote(maildirs, user, [])
    add_remote(maildirs, "one@example.net", [message("one", i) for i in range(5)])
    add_remote(maildirs, "two@example.net", [message("two", i) for i in range(4)])
    add_remote(maildirs, "three@example.net", [message("three", i) for i in range(3)])
    add_remote(maildirs, "big@example.net", [message("big", i, 40000) for i in range(300)])
    add_remote(maildirs, "cut@example.net", [message("cut", i, 30000) for i in range(6)])
    dovecot = Dovecot(work, maildirs, users)
    os.environ["SSL_CERT_FILE"] = os.path.join(work, "ca.pem")
    server = Postern(binary)
    checks = Checks()
    try:
        for local in ("alice", "bob", "carol", "dave", "erin", "frank"):
            server.add_user(f"{local}@example.org", "local-password")

        def add(local, remote, *args):
            out = server.cli("collect", "add", f"{local}@example.org", "--user", remote,
                             *args, "--interval", "60", stdin=PASSWORD + "\n").stdout
            return int(re.search(r"account (\d+)", out).group(1))

        def status(account):
            text = server.cli("collect", "list").stdout
            block = re.search(rf"^{account} .*?(?=^\d+ |\Z)", text, re.M | re.S)
            return block.group(0) if block else ""

        def mails(account):
            m = re.search(r"(\d+) mails", status(account))
            return int(m.group(1)) if m else 0

        def box(local):
            return server.export().get(f"{local}@example.org", [])

        def exactly_once(local, tag, count):
            got = box(local)
            ids = sorted(re.search(rb"Message-ID: <([^>]+)>", m).group(1) for m in got)
            want = sorted(f"{tag}.{i}@example.com".encode() for i in range(count))
            assert ids == want, f"{local}: {len(ids)} messages, want {count} each once"

        one = add("alice", "one@example.net", "--host", "localhost", "--tls", "pop3s",
                  "--port", str(dovecot.tls_port))
        two = add("bob", "two@example.net", "--host", "localhost", "--tls", "stls",
                  "--port", str(dovecot.port), "--keep", "delete")
        three = add("carol", "three@example.net", "--host", "127.0.0.1", "--tls", "plain",
                    "--allow-plain", "--port", str(dovecot.port))
        wrong = add("dave", "one@example.net", "--host", "127.0.0.1", "--tls", "pop3s",
                    "--port", str(dovecot.tls_port))
        server.start()

        def pop3s_collects():
            wait_for(lambda: mails(one) == 5, 30, "5 mails over POP3S")
            exactly_once("alice", "one", 5)
            first = box("alice")[0]
            assert b"collected from account one@example.net@localhost" in first, first[:400]
            assert b"\r\n.leading dot" in first, "dot-unstuffing"
            assert remote_count(maildirs, "one@example.net") == 5, "leave on server"
        checks.run("POP3S with a CA-verified certificate collects every mail", pop3s_collects)

        def stls_deletes():
            wait_for(lambda: mails(two) == 4, 30, "4 mails over STLS")
            exactly_once("bob", "two", 4)
            wait_for(lambda: remote_count(maildirs, "two@example.net") == 0, 30,
                     "the remote mailbox emptied after the local commit")
        checks.run("STLS collects, and delete-once-collected empties the server",
                   stls_deletes)

        def plain_collects():
            wait_for(lambda: mails(three) == 3, 30, "3 mails over plain POP3")
            exactly_once("carol", "three", 3)
        checks.run("plain POP3 (explicitly allowed) collects", plain_collects)

        def wrong_certificate():
            wait_for(lambda: "certificate not trusted" in status(wrong), 30,
                     "the certificate error")
            assert fingerprint in status(wrong), status(wrong)
            assert box("dave") == [], "nothing collected"
        checks.run("a certificate for another name is reported with its fingerprint",
                   wrong_certificate)

        def pinned():
            pin = add("dave", "three@example.net", "--host", "127.0.0.1", "--tls", "pop3s",
                      "--port", str(dovecot.tls_port), "--pin", fingerprint)
            wait_for(lambda: mails(pin) == 3, 30, "3 mails with a pinned certificate")
            exactly_once("dave", "three", 3)
        checks.run("pinning the fingerprint then collects", pinned)

        def restart_again():
            assert server.stop() == 0
            add_remote(maildirs, "one@example.net", [message("one", i) for i in range(5, 8)])
            server.start()
            server.cli("collect", "now", str(one), check=False)  # sooner than its interval
            wait_for(lambda: mails(one) == 8, 30, "8 mails after the restart: " + status(one))
            exactly_once("alice", "one", 8)
        checks.run("collect, restart, collect again: each mail exactly once", restart_again)

        def kill_mid_run():
            big = add("erin", "big@example.net", "--host", "localhost", "--tls", "pop3s",
                      "--port", str(dovecot.tls_port))
            wait_for(lambda: re.search(rf"collect {big} event=listed", server.log()), 30,
                     "the big run under way")
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            server.proc = None
            server.start()
            wait_for(lambda: mails(big) >= 1 and len(box("erin")) == 300, 120,
                     "300 mails after kill -9 and a restart")
            exactly_once("erin", "big", 300)
        checks.run("kill -9 in the middle of a run, restart: each mail exactly once",
                   kill_mid_run)

        def cut_mid_retr():
            proxy = CuttingProxy(dovecot.port, 45000)
            cut = add("frank", "cut@example.net", "--host", "127.0.0.1", "--tls", "plain",
                      "--allow-plain", "--port", str(proxy.port))
            wait_for(lambda: proxy.cuts == 1, 30, "the link cut in a RETR")
            server.cli("collect", "now", str(cut), check=False)
            wait_for(lambda: len(box("frank")) == 6, 60, "6 mails after the cut")
            exactly_once("frank", "cut", 6)
            assert remote_count(maildirs, "cut@example.net") == 6, "nothing deleted"
        checks.run("a link cut mid-RETR: the next run completes, nothing lost or doubled",
                   cut_mid_retr)

        def cli_now():
            out = server.cli("collect", "now", str(three))
            assert "0 collected" in out.stdout, out.stdout
        checks.run("collect now from the CLI finds nothing new", cli_now)
        checks.closing(server)
    finally:
        server.close()
        dovecot.stop()
        shutil.rmtree(work, ignore_errors=True)
    checks.finish()


if __name__ == "__main__":
    main()
