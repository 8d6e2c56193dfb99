"""The verified-credential cache end to end: fast repeat logins, and no stale entry.

usage: login_cache_e2e.py POSTERN_BINARY

With the host board's PBKDF2 cost (600000 iterations), a repeated POP3 login is answered from
the cache, over plain POP3 and over POP3S with a resumed TLS session; a password changed or a
user removed by the CLI (another process) takes effect at once, and a failed attempt drops the
entry. Clients: poplib and ssl from the standard library.
"""
import poplib
import socket
import ssl
import sys
import time

from harness import Checks, Postern, scaled

BINARY = sys.argv[1]
USER = "carol@example.org"
PASSWORD = "pw-of-carol"
NEW_PASSWORD = "new-pw-of-carol"


def timed_login(server, password, user=USER):
    started = time.monotonic()
    client = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(60))
    try:
        client.user(user)
        client.pass_(password)
        elapsed = time.monotonic() - started
        client.quit()
        return elapsed
    finally:
        client.close()


def refused(server, password, user=USER):
    try:
        timed_login(server, password, user)
    except poplib.error_proto as error:
        assert b"[AUTH]" in error.args[0], error
        return True
    return False


def test_repeat_login_skips_pbkdf2(server):
    first = timed_login(server, PASSWORD)
    repeats = sorted(timed_login(server, PASSWORD) for _ in range(5))
    # One PBKDF2 run at 600000 iterations is hundreds of ms; a cached login is loopback I/O.
    assert repeats[2] * 5 < first, f"first {first:.3f}s, repeats {repeats}"


def test_resumed_pop3s_login_is_cached(server):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    session = None
    resumed = []
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", server.ports["pop3s"]), scaled(30))
        with context.wrap_socket(sock, session=session) as tls:
            resumed.append(tls.session_reused)
            session = tls.session
            reader = tls.makefile("rb")
            assert reader.readline().startswith(b"+OK")
            tls.sendall(f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
            assert reader.readline().startswith(b"+OK")
            assert reader.readline().startswith(b"+OK"), "PASS refused"
            tls.sendall(b"QUIT\r\n")
            assert reader.readline().startswith(b"+OK")
    assert resumed == [False, True, True], resumed


def test_password_change_by_cli_takes_effect_at_once(server):
    timed_login(server, PASSWORD)  # cached now
    server.cli("user", "passwd", USER, stdin=NEW_PASSWORD + "\n")
    assert refused(server, PASSWORD), "the old password still logs in"
    timed_login(server, NEW_PASSWORD)
    server.cli("user", "passwd", USER, stdin=PASSWORD + "\n")
    timed_login(server, PASSWORD)


def test_failed_attempt_drops_the_entry(server):
    timed_login(server, PASSWORD)
    cached = timed_login(server, PASSWORD)
    assert refused(server, "wrong-password")
    # The next good login runs PBKDF2 again.
    again = timed_login(server, PASSWORD)
    assert again > cached * 5, f"cached {cached:.4f}s, after a failure {again:.4f}s"


def test_removed_user_is_refused(server):
    server.add_user("dave@example.org", "pw-of-dave")
    timed_login(server, "pw-of-dave", "dave@example.org")
    server.cli("user", "del", "dave@example.org")
    assert refused(server, "pw-of-dave", "dave@example.org")


def main():
    checks = Checks()
    # The host board's PBKDF2 cost (the harness lowers it for speed elsewhere).
    server = Postern(BINARY, {"pbkdf2_iterations": 600000})
    try:
        server.add_user(USER, PASSWORD)
        server.start()
        for name, fn in (
            ("a repeated login is answered without PBKDF2", test_repeat_login_skips_pbkdf2),
            ("a POP3S login on a resumed session is cached too",
             test_resumed_pop3s_login_is_cached),
            # The first failure from 127.0.0.1 is free of throttle delay (core/throttle.h), so
            # the login after it times PBKDF2 alone; later failures delay later logins.
            ("a failed attempt drops the cached entry", test_failed_attempt_drops_the_entry),
            ("a password changed by the CLI takes effect at once",
             test_password_change_by_cli_takes_effect_at_once),
            ("a user removed by the CLI is refused", test_removed_user_is_refused),
        ):
            checks.run(name, fn, server)
        checks.closing(server)
    finally:
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
