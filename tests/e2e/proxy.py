"""A TCP proxy that breaks SMTP deliveries on purpose, for the dedup e2e tests.

Listens on 127.0.0.1:0 and forwards each connection to a target port, with one of
these modes:
  "forward"            pass everything through;
  "swallow-final-250"  after the client's end-of-data "." line, drop the server's
                       next reply and cut both links: the message is committed but
                       the sender never hears so, and must retry (the seed's case);
  "cut-mid-data"       forward only `cut_after` bytes of message data after the
                       DATA command, then cut both links (a broken DATA).
Threads, stdlib only. Every socket has a timeout, so nothing hangs forever.
"""
import socket
import threading

from harness import scaled


class Proxy:
    def __init__(self, target_port, mode="forward", cut_after=0):
        assert mode in ("forward", "swallow-final-250", "cut-mid-data"), mode
        self.target_port = target_port
        self.mode = mode
        self.cut_after = cut_after
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(scaled(60))
        self.port = self.listener.getsockname()[1]
        self.cuts = 0  # links cut on purpose
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self):
        self.closed = True
        self.listener.close()

    def _accept_loop(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port), timeout=scaled(60))
            client.settimeout(scaled(60))
            link = _Link(self, client, server)
            threading.Thread(target=link.client_to_server, daemon=True).start()
            threading.Thread(target=link.server_to_client, daemon=True).start()


class _Link:
    def __init__(self, proxy, client, server):
        self.proxy = proxy
        self.client = client
        self.server = server
        self.line = b""             # client command line in progress (outside DATA)
        self.in_data = False        # the client is sending message data
        self.data_bytes = 0         # message data forwarded so far
        self.tail = b""             # last bytes of data, to find "\r\n.\r\n" across reads
        self.swallow_next = False   # drop the server's next reply and cut
        self.cut = False

    def cut_both(self):
        with self.proxy.lock:
            if self.cut:
                return
            self.cut = True
            self.proxy.cuts += 1
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def client_to_server(self):
        try:
            while not self.cut:
                chunk = self.client.recv(65536)
                if not chunk:
                    break
                self.forward_from_client(chunk)
        except OSError:
            pass
        if not self.cut:
            try:
                self.server.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def forward_from_client(self, chunk):
        while chunk and not self.cut:
            if not self.in_data:
                # Command lines: watch for DATA (smtplib does not pipeline).
                lf = chunk.find(b"\n")
                part = chunk if lf < 0 else chunk[:lf + 1]
                chunk = b"" if lf < 0 else chunk[lf + 1:]
                self.line += part
                self.server.sendall(part)
                if self.line.endswith(b"\n"):
                    if self.line.strip().upper() == b"DATA":
                        self.in_data = True
                        self.tail = b"\r\n"
                    self.line = b""
                continue
            if self.proxy.mode == "cut-mid-data":
                room = self.proxy.cut_after - self.data_bytes
                if len(chunk) >= room:
                    self.server.sendall(chunk[:room])
                    self.cut_both()
                    return
            window = self.tail + chunk
            end = window.find(b"\r\n.\r\n")
            if end >= 0:
                used = end + 5 - len(self.tail)
                if self.proxy.mode == "swallow-final-250":
                    self.swallow_next = True  # before the "." reaches the server
                self.server.sendall(chunk[:used])
                self.data_bytes += used
                chunk = chunk[used:]
                self.in_data = False
                self.tail = b""
                continue
            self.server.sendall(chunk)
            self.data_bytes += len(chunk)
            self.tail = window[-4:]
            chunk = b""

    def server_to_client(self):
        try:
            while not self.cut:
                chunk = self.server.recv(65536)
                if not chunk:
                    break
                if self.swallow_next:
                    self.cut_both()  # the 250 (or whatever came) never reaches the client
                    return
                self.client.sendall(chunk)
        except OSError:
            pass
        if not self.cut:
            try:
                self.client.shutdown(socket.SHUT_WR)
            except OSError:
                pass
