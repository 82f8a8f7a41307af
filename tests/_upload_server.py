"""A tiny HTTPS server for upload tests: a certificate from a test CA; it keeps what is POSTed."""
from __future__ import annotations

import contextlib
import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

from fleet import credentials


@contextlib.contextmanager
def upload_server(ca_dir: Path, tmp: Path, host: str = "localhost") -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """``(base URL, received)``: each POST's (path, content type, body), answered 201 with a Location."""
    received: list[tuple[str, str, bytes]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(201)
            self.send_header("Location", f"/files/{len(received)}")
            self.end_headers()

        def log_message(self, *args):
            pass

    cert, key = credentials.sign(ca_dir, tmp, "upload", hosts=(host, "127.0.0.1"), client=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://{host}:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
