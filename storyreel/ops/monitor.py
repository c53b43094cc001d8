"""``storyreel monitor``: a small web page showing every job of a running workflow and its state.

The storyreel logger plugin (``--logger storyreel``, the default profile's logger) keeps
``.snakemake/storyreel/progress.json`` up to date in the working directory; this server hands
that file to the page (``/api/progress``), which redraws itself every second: overall and
per-story progress, the ETA, memory, and one row per job (pending, running, done, failed) with
its time, peak memory and log path. Standard library only; it listens on 127.0.0.1 unless told
otherwise and serves nothing but that file and the page.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

from storyreel.core import pipeline

STATE = pipeline.RUN_STATE / "progress.json"


def page() -> bytes:
    return resources.files("storyreel.ops").joinpath("web/monitor.html").read_bytes()


def state(workdir: Path) -> bytes:
    path = workdir / STATE
    try:
        return path.read_bytes()
    except OSError:
        return json.dumps({"waiting": True, "workdir": str(workdir)}).encode()


def make_server(workdir: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    html = page()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path in ("/", "/index.html"):
                body, kind = html, "text/html; charset=utf-8"
            elif self.path.split("?")[0] == "/api/progress":
                body, kind = state(workdir), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return ThreadingHTTPServer((host, port), Handler)


def serve(workdir: Path, host: str = "127.0.0.1", port: int = 8765) -> None:
    server = make_server(workdir, host, port)
    print(f"storyreel monitor: http://{server.server_address[0]}:{server.server_address[1]}/ "
          f"(watching {workdir}; Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
