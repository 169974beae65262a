"""The gateway benchmark's floor: the least a Python relay can be, a raw ASGI app under uvicorn forwarding with aiohttp.

Run as a script (`python benchmarks/_relay.py PORT UPSTREAM_URL`; it imports neither mlsec nor the benchmarks):
every request's method, path, query and body go to `UPSTREAM_URL` with its Content-Type and Accept, over one
aiohttp session with keep-alive, and the answer's status, Content-Type and body come back. No request id, no
metrics, no tracing, no authentication, no limits, no error envelope: what the mlsec gateway adds is measured
against this, as nginx's C is the floor of any proxy. uvicorn runs as `mlsec serve` runs it (uvloop, httptools,
no access log, one process).
"""

from __future__ import annotations

import sys
from typing import Any

import aiohttp
import uvicorn

HOST = "127.0.0.1"
FORWARDED = (b"content-type", b"accept")


class Relay:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"] if name in FORWARDED
        }
        query = scope["query_string"].decode("latin-1")
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        assert self.session is not None
        async with self.session.request(scope["method"], url, data=body or None, headers=headers) as response:
            answer = await response.read()
            content_type = response.headers.get("content-type", "application/json").encode("latin-1")
            status = response.status
        headers_out = [(b"content-type", content_type), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers_out})
        await send({"type": "http.response.body", "body": answer})

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.session = aiohttp.ClientSession(auto_decompress=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(
        Relay(upstream),
        host=HOST,
        port=port,
        loop="auto",  # uvloop where installed, as `mlsec serve`
        http="auto",  # httptools where installed
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
    )


if __name__ == "__main__":
    main()
