"""A real HTTP webhook receiver on 127.0.0.1 that fails, hangs and recovers on cue, and
verifies Standard Webhooks signatures on the receiving side."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.alert.signing import verify


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    signatures_valid: dict[str, bool]


@dataclass
class Receiver:
    url: str
    secrets: list[str] = field(default_factory=list)
    # What to do for each request, in order; the last one repeats. An int is a status
    # code; ("hang", seconds) holds the request open that long, then answers 200.
    script: list[int | tuple[str, float]] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_action(self) -> int | tuple[str, float]:
        with self.lock:
            index = min(len(self.received) - 1, len(self.script) - 1)
            return self.script[index]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder["r"]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            checks = {s: verify(s, headers, body) for s in receiver.secrets}
            with receiver.lock:
                receiver.received.append(Received(headers, body, checks))
            action = receiver.next_action()
            if isinstance(action, tuple):
                receiver.release.wait(action[1])
                action = 200
            try:
                self.send_response(action)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: object) -> None:
            return

    class Server(ThreadingHTTPServer):
        # Accept every connection of a busy pass (the default backlog of 5 refuses some,
        # which the sender counts as attempts the receiver never saw).
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder["r"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        holder["r"].release.set()
        server.shutdown()
        server.server_close()
