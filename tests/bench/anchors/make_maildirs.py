#!/usr/bin/env python3
"""make_maildirs.py: writes the POP3 bench's mailboxes as a Maildir tree, the same files for Dovecot and postern.

Usage: make_maildirs.py DIR USERS MESSAGES SIZE [DOMAIN]
Writes DIR/bench<n>@DOMAIN/{cur,new,tmp}/ for n in 1..USERS, each with MESSAGES files of about
SIZE bytes in new/ (the layout `postern import --maildir` reads; Dovecot's mail_location points
at the same per-user folders). Lines end in CRLF, as on the wire, so both servers send the file
unchanged apart from the final "."; no line starts with "." (no dot-stuffing to measure).
"""
import os
import sys
import time


def message(user, number, size):
    head = (f"From: <sender@bench.example>\r\nTo: <{user}>\r\n"
            f"Date: Tue, 24 Nov 2026 12:00:00 +0000\r\n"
            f"Message-ID: <{number}.{user}@make-maildirs.bench>\r\n"
            f"Subject: bench message {number} for {user}\r\n\r\n")
    line = f"Line of the POP3 bench, message {number:05d}, padded to 76 characters ok\r\n"
    line = line[:-2].ljust(76, "x") + "\r\n"
    body_lines = max(1, (size - len(head)) // len(line))
    return (head + line * body_lines).encode()


def main():
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    root, users, messages, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    domain = sys.argv[5] if len(sys.argv) == 6 else "example.org"
    now = int(time.time())
    for n in range(1, users + 1):
        user = f"bench{n}@{domain}"
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, user, sub), exist_ok=True)
        for m in range(1, messages + 1):
            data = message(user, m, size)
            name = f"{now}.M{m}P{os.getpid()}.bench,S={len(data)}"
            with open(os.path.join(root, user, "new", name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
