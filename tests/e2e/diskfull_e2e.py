"""Disk full and map full: 452 4.3.1, POP3 and the page keep working, nothing is corrupt,
and mail is accepted again by itself once space is freed (issue 15).

Disk full: the data folder lives on a tmpfs with a size limit, mounted in a private mount
namespace (the test re-runs itself under `unshare -m`); a ballast file fills it. Map full:
map_size_mb = 8, filled with mail; deleting mail over POP3 frees the space. Both print the
recovery time: from the moment space is freed to the first 250.

usage: diskfull_e2e.py POSTERN        (root; exit 77 = skipped)
"""
import http.client
import json
import os
import poplib
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Checks, Postern, scaled, wait_for  # noqa: E402

USER = "box@example.org"
PASSWORD = "diskfull-pw"
ADMIN = "diskfull-admin-password"
NAMESPACE_FLAG = "POSTERN_DISKFULL_IN_NAMESPACE"


def message(tag, size):
    body = "".join(f"{tag} line {i} " + "x" * 60 + "\r\n" for i in range(size // 72 + 1))
    return (f"From: s@sender.example.net\r\nTo: {USER}\r\nSubject: {tag}\r\n"
            f"Message-ID: <{tag}@sender.example.net>\r\n\r\n{body}").encode()


def send(server, data):
    """(code, text) of the final reply to one message."""
    try:
        with smtplib.SMTP("127.0.0.1", server.ports["smtp"], timeout=scaled(30)) as client:
            client.ehlo("sender.example.net")
            client.mail("s@sender.example.net")
            code, text = client.rcpt(USER)
            if code != 250:
                return code, text.decode()
            code, text = client.data(data)
            return code, text.decode()
    except smtplib.SMTPResponseException as error:
        return error.smtp_code, error.smtp_error.decode(errors="replace")
    except (OSError, smtplib.SMTPServerDisconnected) as error:
        return 0, f"connection failed: {error}"


class Page:
    """The status page's JSON API with an admin session (set up before the disk fills)."""

    def __init__(self, server):
        self.server = server
        token = wait_for(lambda: re.search(r"setup#(\S+)", server.log()), 10, "the setup link")
        status, headers, _ = self.request("POST", "/api/setup",
                                          {"token": token.group(1), "password": ADMIN})
        assert status == 200, f"setup answered {status}"
        self.cookie = headers["set-cookie"].split(";", 1)[0]

    def request(self, method, path, body=None):
        port = self.server.ports["http"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(10))
        headers = {"Host": f"127.0.0.1:{port}"}
        if getattr(self, "cookie", None):
            headers["Cookie"] = self.cookie
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            headers["Origin"] = f"http://127.0.0.1:{port}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def status(self):
        status, _, payload = self.request("GET", "/api/status")
        assert status == 200, f"/api/status answered {status}"
        return json.loads(payload)


def pop3_works(server, retrieve=True):
    """Logs in, lists, retrieves the first message, QUITs without deleting."""
    client = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(30))
    try:
        client.user(USER)
        client.pass_(PASSWORD)
        count, _ = client.stat()
        assert count > 0, "the maildrop is empty"
        client.list()
        if retrieve:
            _, lines, _ = client.retr(1)
            assert lines, "RETR returned nothing"
        assert client.quit().startswith(b"+OK")
    finally:
        client.close()
    return count


def storage_problem(page):
    """The page's words for a full store, or None (overview.storage_problem)."""
    return page.status()["overview"].get("storage_problem")


def until_accepted(server, data_for):
    """Sends until a 250, returning (seconds, attempts); any reply but 452 4.3.1 fails."""
    start = time.monotonic()
    attempts = 0
    deadline = start + scaled(30)
    while time.monotonic() < deadline:
        attempts += 1
        code, text = send(server, data_for(attempts))
        if code == 250:
            return time.monotonic() - start, attempts
        assert code == 452 and "4.3.1" in text, f"while waiting: {code} {text}"
    raise AssertionError("no 250 within the bound after space was freed")


def fill_disk(mount, leave):
    """Writes a ballast file until the filesystem has at most `leave` bytes free."""
    path = os.path.join(mount, "ballast")
    with open(path, "wb") as f:
        for size in (1 << 20, 64 << 10, 4 << 10, 512):
            block = b"\0" * size
            while True:
                free = shutil.disk_usage(mount).free
                if free <= leave:
                    break
                try:
                    f.write(block[:max(512, min(size, free - leave))])
                    f.flush()
                except OSError:
                    break
    return path


def disk_full(binary, checks):
    mount = tempfile.mkdtemp(prefix="postern-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount], check=True)
    tempfile.tempdir = mount  # Postern makes its data folder here
    server = None
    try:
        server = Postern(binary)
        server.add_user(USER, PASSWORD)
        server.start()
        page = Page(server)
        for i in range(3):
            code, text = send(server, message(f"before-{i}", 3000))
            assert code == 250, f"{code} {text}"

        results = {}
        for leave, label in ((0, "no byte free"), (96 << 10, "96 KB free")):
            ballast = fill_disk(mount, leave)
            print(f"disk filled ({label}): {shutil.disk_usage(mount).free} bytes free",
                  flush=True)

            # What is left inside the store's file (freed pages) still takes mail: send until
            # the first refusal, then every delivery must get 452 4.3.1.
            code, text, fitted = 250, "", 0
            for size in (20_000, 1000):
                for i in range(400):
                    code, text = send(server, message(f"fill-{label}-{size}-{i}", size))
                    if code != 250:
                        break
                    fitted += 1
            print(f"disk full ({label}): {fitted} more messages fitted in the store's free "
                  f"pages, then {code} {text}", flush=True)

            def refused(code=code, text=text, label=label):
                assert code == 452 and "4.3.1" in text, f"first refusal: {code} {text}"
                for size in (1000, 200_000):
                    code, text = send(server, message(f"full-{label}-{size}", size))
                    assert code == 452 and "4.3.1" in text, \
                        f"{size}-byte message on a full disk: {code} {text}\n" + server.log()[-1500:]
            checks.run(f"disk full ({label}): deliveries get 452 4.3.1", refused)
            checks.run(f"disk full ({label}): POP3 logs in, lists and retrieves",
                       pop3_works, server)

            def page_says(label=label):
                words = storage_problem(page)
                assert words and "disk full" in words.lower(), f"storage_problem={words!r}"
            checks.run(f"disk full ({label}): the page says \"disk full\"", page_says)
            assert server.proc.poll() is None, "postern exited: " + server.log()

            def recovers(label=label, ballast=ballast):
                os.unlink(ballast)  # space freed: the recovery clock starts
                seconds, attempts = until_accepted(
                    server, lambda n: message(f"after-{label}-{n}", 3000))
                results[label] = (seconds, attempts)
                print(f"disk full ({label}): recovery {seconds * 1000:.0f} ms from space freed "
                      f"to the first 250 ({attempts} attempts, no restart)", flush=True)
            checks.run(f"disk full ({label}): mail is accepted again without a restart",
                       recovers)

            def page_clears():
                wait_for(lambda: not storage_problem(page), 10, "the page to clear disk full")
            checks.run(f"disk full ({label}): the page no longer says disk full", page_clears)
        checks.closing(server)
        return results
    finally:
        if server is not None:
            server.close()
        tempfile.tempdir = None
        subprocess.run(["umount", "-l", mount], check=False)
        os.rmdir(mount)


def map_full(binary, checks):
    server = Postern(binary, {"map_size_mb": 8})
    try:
        server.add_user(USER, PASSWORD)
        server.start()
        page = Page(server)
        accepted = 0
        code, text = 250, ""
        for i in range(200):
            code, text = send(server, message(f"fill-{i}", 120_000))
            if code != 250:
                break
            accepted += 1
        print(f"map full after {accepted} messages of 120 KB: {code} {text}", flush=True)

        def refused():
            assert accepted > 0, "nothing fitted"
            assert code == 452 and "4.3.1" in text, f"{code} {text}"
            c, t = send(server, message("still-full", 120_000))
            assert c == 452 and "4.3.1" in t, f"{c} {t}"
        checks.run("map full: deliveries get 452 4.3.1", refused)
        checks.run("map full: POP3 logs in, lists and retrieves", pop3_works, server)

        def page_says():
            words = storage_problem(page)
            assert words and "full" in words.lower(), f"storage_problem={words!r}"
        checks.run("map full: the page says the store is full", page_says)

        # Free space the way an owner does: the mail client downloads and deletes.
        client = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(30))
        client.user(USER)
        client.pass_(PASSWORD)
        count, _ = client.stat()
        for n in range(1, count // 2 + 1):
            client.dele(n)
        reply = client.quit()
        client.close()
        checks.run("map full: deleting mail over POP3 works (QUIT +OK)",
                   lambda: reply.startswith(b"+OK") or (_ for _ in ()).throw(
                       AssertionError(reply)))
        result = {}

        def recovers():
            seconds, attempts = until_accepted(server,
                                               lambda n: message(f"after-map-{n}", 120_000))
            result["seconds"] = seconds
            print(f"map full: recovery {seconds * 1000:.0f} ms from the deleting QUIT to the "
                  f"first 250 ({attempts} attempts, no restart)", flush=True)
        checks.run("map full: mail is accepted again without a restart", recovers)
        checks.run("map full: the page no longer says full",
                   lambda: wait_for(lambda: not storage_problem(page), 10, "the page to clear"))
        checks.closing(server)
        return result.get("seconds")
    finally:
        server.close()


def main():
    binary = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("skipped: needs root (a tmpfs mount in a private mount namespace)")
        sys.exit(77)
    if os.environ.get(NAMESPACE_FLAG) != "1":
        env = dict(os.environ, **{NAMESPACE_FLAG: "1"})
        result = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                                 os.path.abspath(__file__), binary], env=env)
        sys.exit(result.returncode)
    checks = Checks()
    disk = disk_full(binary, checks)
    mapped = map_full(binary, checks)
    print("recovery times: " + ", ".join(f"disk full ({k}) {v[0] * 1000:.0f} ms"
                                          for k, v in disk.items())
          + (f", map full {mapped * 1000:.0f} ms" if mapped is not None else ""), flush=True)
    checks.finish()


if __name__ == "__main__":
    main()
