"""Dedup end to end: lost 250s, broken DATA, the owner's switch and the domain rule.

A proxy (proxy.py) breaks deliveries the way the seeds describe: the server's
final 250 never reaches the sender (who retries), or the link drops mid-DATA.
Each test then re-sends directly, as the sender's retry would, and counts the
copies through `postern export --maildir`.

usage: dedup_e2e.py POSTERN_BINARY
"""
import poplib
import smtplib
import sys

from harness import Checks, Postern, scaled, strip_trace, wait_for
from proxy import Proxy

BINARY = sys.argv[1]
PASSWORD = "correct horse battery"
RCPT = "bob@example.org"


def message(subject, body, message_id):
    return (f"From: alice@sender.example\r\nTo: {RCPT}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{message_id}@Sender.Example>\r\n\r\n{body}").encode()


def send(port, data):
    """Sends one message; returns None on success or the exception the client saw."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=scaled(30)) as client:
            client.ehlo("sender.example")
            refused = client.sendmail("alice@sender.example", [RCPT], data)
            assert refused == {}, refused
            return None
    except (smtplib.SMTPException, OSError) as error:
        return error


def copies(server, needle):
    return [m for m in server.export().get(RCPT, []) if needle in m]


def events(server, kind):
    out = server.cli("events", "--limit", "1000").stdout.splitlines()
    return [line for line in out if f" {kind} " in line]


def started(settings=None):
    server = Postern(BINARY, settings)
    server.add_user(RCPT, PASSWORD)
    return server.start()


def test_lost_250_then_retry_is_one_copy(server):
    data = message("lost reply", "the 250 of this one is swallowed\r\n", "lost-1")
    proxy = Proxy(server.ports["smtp"], "swallow-final-250")
    try:
        error = send(proxy.port, data)
    finally:
        proxy.close()
    assert error is not None, "the client must not have seen the 250"
    assert proxy.cuts == 1
    assert len(copies(server, b"Subject: lost reply")) == 1, "the first try was committed"
    assert send(server.ports["smtp"], data) is None, "the retry must be answered 250"
    stored = copies(server, b"Subject: lost reply")
    assert len(stored) == 1, f"{len(stored)} copies after the retry"
    assert strip_trace(stored[0]) == data
    found = [e for e in events(server, "duplicate-suppressed")
             if "message_id=<lost-1@sender.example>" in e]
    assert len(found) == 1, events(server, "duplicate-suppressed")
    assert "rule=content" in found[0] and f"mailbox={RCPT}" in found[0], found[0]
    assert "event=duplicate-suppressed" in server.log()


def cut_mid_data(server, data, cut_after):
    proxy = Proxy(server.ports["smtp"], "cut-mid-data", cut_after)
    try:
        error = send(proxy.port, data)
    finally:
        proxy.close()
    assert error is not None, "the client must have seen the link drop"
    assert proxy.cuts == 1


def test_broken_data_discarded_by_default(server):
    data = message("broken default", ("x" * 70 + "\r\n") * 40, "broken-1")
    before = len(events(server, "partial-discarded"))
    cut_mid_data(server, data, 300)
    wait_for(lambda: len(events(server, "partial-discarded")) > before, 30,
             "the partial-discarded event")
    line = events(server, "partial-discarded")[0]
    assert "peer=127.0.0.1" in line and "bytes=300" in line, line
    assert "message_id=<broken-1@sender.example>" in line, line
    assert copies(server, b"broken-1") == [], "a discarded partial was stored"
    assert send(server.ports["smtp"], data) is None
    stored = copies(server, b"broken-1")
    assert len(stored) == 1 and strip_trace(stored[0]) == data
    assert b"X-Postern-Partial" not in stored[0]


def test_broken_data_kept_then_replaced():
    server = started({"partial_policy": "keep-as-alert"})
    try:
        data = message("kept alert", ("y" * 70 + "\r\n") * 80, "kept-1")
        cut_mid_data(server, data, 400)
        partials = wait_for(lambda: copies(server, b"kept-1"), 30, "the partial in the mailbox")
        assert len(partials) == 1
        partial = partials[0]
        assert b"X-Postern-Partial: incomplete delivery (connection lost after 400 bytes);" \
            in partial, partial[:600]
        assert b"the complete message will replace this one" in partial
        assert b"Subject: [INCOMPLETE] kept alert\r\n" in partial, partial[:600]
        # The partial sits after our trace headers and before the sender's headers.
        assert partial.index(b"Received:") < partial.index(b"X-Postern-Partial") \
            < partial.index(b"From: alice@")
        # The link broke mid-line; the partial is stored in the stored form (last line
        # completed), so LIST and RETR agree. A client downloads it (RETR + QUIT): the
        # complete copy must replace it all the same (issue 14 §4).
        client = poplib.POP3("127.0.0.1", server.ports["pop3"], timeout=scaled(30))
        try:
            client.user(RCPT)
            client.pass_(PASSWORD)
            assert client.stat()[0] == 1
            listed = int(client.list(1).split()[2])
            _, lines, _ = client.retr(1)
            got = b"\r\n".join(lines) + b"\r\n"
            assert len(got) == listed, f"LIST {listed}, RETR {len(got)}"
            assert got == partial
            client.quit()
        finally:
            client.close()
        assert send(server.ports["smtp"], data) is None
        stored = copies(server, b"kept-1")
        assert len(stored) == 1, f"{len(stored)} copies: the partial must be superseded"
        assert strip_trace(stored[0]) == data
        assert events(server, "partial-kept")
        superseded = events(server, "partial-superseded")
        assert len(superseded) == 1 and "removed=yes downloaded=yes" in superseded[0], superseded
        server.cli("status", "--check")
    finally:
        if server.stop() != 0:
            raise AssertionError("exit status")
        server.check_clean_log()
        server.close()


def test_allow_duplicates_stores_both():
    server = started({"allow_duplicates": "yes"})
    try:
        data = message("twice", "allowed twice\r\n", "twice-1")
        assert send(server.ports["smtp"], data) is None
        assert send(server.ports["smtp"], data) is None
        assert len(copies(server, b"Subject: twice")) == 2
        assert events(server, "duplicate-suppressed") == []
    finally:
        server.stop()
        server.check_clean_log()
        server.close()


def test_domain_rule_message_id(server):
    server.cli("domain", "rule", "example.org", "content-or-message-id")
    first = message("rule", "first body\r\n", "rule-1")
    second = message("rule", "another body, same Message-ID\r\n", "rule-1")
    assert send(server.ports["smtp"], first) is None
    assert send(server.ports["smtp"], second) is None
    assert len(copies(server, b"rule-1@")) == 1, "content-or-message-id must suppress it"
    assert any("rule=message-id" in e for e in events(server, "duplicate-suppressed"))
    server.cli("domain", "rule", "example.org", "content")
    assert send(server.ports["smtp"], second) is None
    assert len(copies(server, b"rule-1@")) == 2, "the content rule must deliver it"
    # `second` is stored now, so its content row exists: a retry of it is suppressed.
    assert send(server.ports["smtp"], second) is None
    assert len(copies(server, b"rule-1@")) == 2


def main():
    checks = Checks()
    server = started()
    try:
        checks.run("a lost 250 and the retry leave exactly one copy",
                   test_lost_250_then_retry_is_one_copy, server)
        checks.run("a broken DATA is discarded by default; the re-send is the one copy",
                   test_broken_data_discarded_by_default, server)
        checks.run("keep-as-alert keeps a labelled partial, replaced by the complete copy "
                   "even once downloaded",
                   test_broken_data_kept_then_replaced)
        checks.run("allow_duplicates yes stores both copies", test_allow_duplicates_stores_both)
        checks.run("the domain rule decides whether a Message-ID match suppresses",
                   test_domain_rule_message_id, server)
        checks.closing(server)
    finally:
        if checks.failed:
            print(server.log())
        server.close()
    checks.finish()


if __name__ == "__main__":
    main()
