"""A real HTTP feed server on loopback, for tests (and anyone who needs a misbehaving portal).

Routes answer with scripted responses: validators (ETag/Last-Modified → 304),
gzip, redirects, status sequences (500, 500, 200 to test recovery), slow
headers, a slow drip, a truncated body. Every request is recorded with its
headers so tests can check what the client sent.
"""

from __future__ import annotations

import gzip as gzip_mod
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    delay: float = 0.0
    """Seconds before the status line (a slow server)."""
    drip: float = 0.0
    """Seconds between 64-byte pieces of the body (a slow body)."""
    truncate_at: int | None = None
    """Announce the full Content-Length, send only this many bytes, close."""
    location: str | None = None


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class FeedServer:
    """``with FeedServer() as srv: srv.route("/a.xml", Reply(body=...)); srv.url("/a.xml")``."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_a: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                replies = server.routes.get(self.path.split("?")[0])
                if not replies:
                    self._send(Reply(b"not found", 404, "text/plain"))
                    return
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                if reply.delay and server.release.wait(reply.delay):
                    return
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if reply.status == 200 and ((reply.etag and inm == reply.etag) or
                                            (reply.last_modified and not reply.etag and ims == reply.last_modified)):
                    self.send_response(304)
                    if reply.etag:
                        self.send_header("ETag", reply.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                body = gzip_mod.compress(reply.body) if reply.gzip else reply.body
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if reply.etag:
                    self.send_header("ETag", reply.etag)
                if reply.last_modified:
                    self.send_header("Last-Modified", reply.last_modified)
                if reply.location:
                    self.send_header("Location", reply.location)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                if reply.truncate_at is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if reply.truncate_at is not None:
                        self.wfile.write(body[: reply.truncate_at])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                    if reply.drip:
                        for i in range(0, len(body), 64):
                            self.wfile.write(body[i:i + 64])
                            self.wfile.flush()
                            if server.release.wait(reply.drip):
                                return
                        return
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def route(self, path: str, *replies: Reply) -> str:
        """Answer ``path`` with these replies in turn (the last one repeats); return its URL."""
        self.routes[path] = list(replies)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def __enter__(self) -> "FeedServer":
        self.thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.release.set()  # unblock slow handlers
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(items: list[dict[str, str]], *, encoding: str = "utf-8", declare: str | None = None, title: str = "测试源") -> bytes:
    """An RSS 2.0 document; ``declare`` is the encoding named in the XML declaration (may lie)."""
    from xml.sax.saxutils import escape

    parts = [f'<?xml version="1.0" encoding="{declare or encoding}"?>\n<rss version="2.0"><channel>'
             f"<title>{escape(title)}</title><link>http://example.invalid/</link><description>t</description>"]
    for it in items:
        parts.append("<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in it.items()) + "</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode(encoding)


def atom(entries: list[dict[str, str]], *, encoding: str = "utf-8") -> bytes:
    from xml.sax.saxutils import escape

    parts = [f'<?xml version="1.0" encoding="{encoding}"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
             "<title>测试 Atom</title><id>urn:test</id><updated>2022-07-15T00:00:00Z</updated>"]
    for e in entries:
        inner = "".join(f'<link href="{escape(v)}"/>' if k == "link" else f"<{k}>{escape(v)}</{k}>" for k, v in e.items())
        parts.append(f"<entry>{inner}</entry>")
    parts.append("</feed>")
    return "\n".join(parts).encode(encoding)
