"""A loopback TCP proxy for the e2e tests that break links on purpose.

Forwarder relays each accepted connection to 127.0.0.1:target_port, one thread per
direction. A subclass decides, chunk by chunk, what passes: upstream() sees what the client
sends, downstream() what the server sends; each returns (bytes to forward, cut), and a cut
closes both sides right after those bytes, as a broken link would. `link` is a dict per
connection for the subclass's state.
"""
import socket
import threading

from harness import scaled


class Forwarder:
    def __init__(self, target_port):
        self.target_port = target_port
        self.cuts = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def upstream(self, data, link):
        return data, False

    def downstream(self, data, link):
        return data, False

    def new_link(self):
        return {}

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port), scaled(60))
            for sock in (client, server):
                sock.settimeout(scaled(60))
            link = self.new_link()
            threading.Thread(target=self._pipe, args=(client, server, link, self.upstream),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, link, self.downstream),
                             daemon=True).start()

    def _pipe(self, src, dst, link, decide):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                out, cut = decide(data, link)
                if out:
                    dst.sendall(out)
                if cut:
                    self.cuts += 1
                    break
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
