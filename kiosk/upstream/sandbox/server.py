"""``kiosk upstream-sandbox``: the API server behind its front door, in one asyncio loop.

uvicorn serves the app on a private Unix socket; the front door listens on HOST:PORT
(TLS with ``--cert``/``--key``) and pipes each connection through, so an outage can
close the public socket and open it again. Once listening it prints one line,
``listening on URL`` (the real port when asked for port 0), which ``process`` waits for.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import sys
import tempfile
import tomllib
from pathlib import Path

import uvicorn

from kiosk.catalog.loader import BUNDLED, load_catalog
from kiosk.upstream.sandbox.app import create_app
from kiosk.upstream.sandbox.faults import Faults, FrontDoor
from kiosk.upstream.sandbox.platform import Platform


def serve(host: str, port: int, db: Path, pace: float, catalog: Path = BUNDLED,
          cert: Path | None = None, key: Path | None = None) -> int:
    """Run until SIGINT or SIGTERM."""
    items = load_catalog(catalog)  # a bad catalog stops the sandbox here, with the catalog's message
    text = catalog.read_text(encoding="utf-8")
    document = json.loads(text) if catalog.suffix == ".json" else tomllib.loads(text)
    reply = {"version": items.version, "region": items.region, "document": document}
    tls = None
    if cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
    platform = Platform(db, items, pace)
    try:
        with tempfile.TemporaryDirectory(prefix="upstream-sandbox-") as run:
            asyncio.run(_main(host, port, str(Path(run) / "api.sock"), tls, platform, reply))
    finally:
        platform.close()
    return 0


async def _main(host: str, port: int, backend: str, tls: ssl.SSLContext | None, platform: Platform,
                catalog: dict) -> None:
    faults = Faults()
    front = FrontDoor(host, port, backend, tls, faults)
    app = create_app(platform, faults, catalog, front.outage)
    server = uvicorn.Server(uvicorn.Config(app, uds=backend, log_level="warning", access_log=False,
                                           lifespan="off", timeout_keep_alive=30))
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if serving.done():
        serving.result()  # raises why uvicorn did not start
        return
    await front.open()
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on {scheme}://{shown}:{front.port}", flush=True)
    sys.stdout.flush()
    try:
        await serving
    finally:
        front.close()
