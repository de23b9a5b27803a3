"""Getting the bytes: HTTP (polite, bounded) and local files (replay, tests, samples).

Every failure becomes a value (``FetchResult.error``) instead of an exception,
and whatever arrived before a failure is kept, so the parser can still use the
complete items of a truncated or oversized download.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from responder import __version__
from responder.config.sources import SourceConfig

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".json")
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
          "application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")


@dataclass(frozen=True)
class FetchedDoc:
    name: str
    """URL after redirects, or file path: also decides the parser for files (by extension)."""
    body: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class FetchResult:
    status: int | None = None
    documents: tuple[FetchedDoc, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    error: str | None = None
    """Chinese reason the fetch failed or is incomplete; documents may still hold what arrived."""
    truncated: bool = False
    elapsed_ms: int = 0
    redirects: tuple[str, ...] = field(default=())

    @property
    def body(self) -> bytes:
        return b"".join(d.body for d in self.documents)

    @property
    def content_type(self) -> str | None:
        return self.documents[0].content_type if self.documents else None


def user_agent(settings: Any = None) -> str:
    contact = ""
    if settings is not None:
        contact = getattr(getattr(settings, "file", None), "service", None) and settings.file.service.public_base_url
    return f"responder/{__version__} (+{contact or 'county government affairs openness office'})"


def make_client(settings: Any = None) -> httpx.AsyncClient:
    """One shared client: connection reuse across polls, redirects, gzip, bounded timeouts."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent(settings), "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=True,
        max_redirects=5,
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        trust_env=False,
    )


def is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


async def fetch(client: httpx.AsyncClient, source: SourceConfig, state: Any | None, *, base_dir: Path) -> FetchResult:
    """Fetch once. ``state`` (a Source row, or None) supplies the validators for a conditional GET."""
    if not is_http(source.url):
        return await asyncio.to_thread(read_path, source.url, base_dir=base_dir, max_bytes=source.max_bytes)
    headers = dict(source.headers)
    if state is not None and getattr(state, "url", source.url) == source.url:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    return await fetch_url(client, source.url, headers=headers, timeout=source.timeout, max_bytes=source.max_bytes)


async def fetch_url(client: httpx.AsyncClient, url: str, *, headers: dict[str, str] | None = None,
                    timeout: float = 20.0, max_bytes: int = 5 * 1024 * 1024) -> FetchResult:
    started = time.monotonic()
    chunks: list[bytes] = []
    total = 0
    resp: httpx.Response | None = None

    def done(**kw: Any) -> FetchResult:
        body = b"".join(chunks)
        docs = (FetchedDoc(str(resp.url) if resp is not None else url, body,
                           resp.headers.get("content-type") if resp is not None else None),) if body else ()
        kw.setdefault("status", resp.status_code if resp is not None else None)
        hist = tuple(str(r.url) for r in resp.history) if resp is not None else ()
        return FetchResult(documents=docs, elapsed_ms=int((time.monotonic() - started) * 1000), redirects=hist, **kw)

    try:
        async with asyncio.timeout(timeout):
            async with client.stream("GET", url, headers=headers or {}) as r:
                resp = r
                if r.status_code == 304:
                    return done(not_modified=True, etag=r.headers.get("etag"),
                                last_modified=r.headers.get("last-modified"))
                error = None
                truncated = False
                try:
                    async for chunk in r.aiter_bytes():
                        room = max_bytes - total
                        if len(chunk) > room:
                            chunks.append(chunk[:room])
                            total = max_bytes
                            error, truncated = f"响应体超过上限 {max_bytes} 字节，只读取了前 {max_bytes} 字节", True
                            break
                        chunks.append(chunk)
                        total += len(chunk)
                except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    error, truncated = f"下载不完整（已收到 {total} 字节）：{type(exc).__name__}", True
                except httpx.DecodingError as exc:
                    error, truncated = f"压缩内容损坏（已解出 {total} 字节）：{exc}", True
                if r.status_code >= 400:
                    chunks.clear()  # an error page is not a feed
                    error = f"HTTP {r.status_code} {r.reason_phrase}".strip()
                elif r.status_code >= 300:
                    chunks.clear()
                    error = f"HTTP {r.status_code}：重定向未完成（Location: {r.headers.get('location', '无')}）"
                return done(etag=r.headers.get("etag"), last_modified=r.headers.get("last-modified"),
                            error=error, truncated=truncated)
    except TimeoutError:
        what = "读取响应体" if resp is not None else "连接或等待响应"
        return done(error=f"超时：{timeout:g} 秒内未完成（{what}，已收到 {total} 字节）", truncated=bool(chunks))
    except httpx.TooManyRedirects:
        return done(error="重定向次数过多")
    except httpx.TimeoutException as exc:
        return done(error=f"超时（{type(exc).__name__}）", truncated=bool(chunks))
    except httpx.ConnectError as exc:
        return done(error=f"无法连接：{_short(exc)}")
    except httpx.HTTPError as exc:
        return done(error=f"请求失败：{type(exc).__name__}: {_short(exc)}", truncated=bool(chunks))
    except (ValueError, OSError, httpx.InvalidURL) as exc:  # invalid URL, local socket trouble
        return done(error=f"请求失败：{type(exc).__name__}: {_short(exc)}")


def _short(exc: BaseException) -> str:
    s = str(exc) or type(exc).__name__
    return s if len(s) <= 200 else s[:200] + "…"


def read_path(url: str, *, base_dir: Path, max_bytes: int = 5 * 1024 * 1024) -> FetchResult:
    """A file, or every feed file in a directory (sorted by name, so replay order is stable)."""
    started = time.monotonic()
    p = Path(url.removeprefix("file://")).expanduser()
    if not p.is_absolute():
        p = base_dir / p
    try:
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in FEED_SUFFIXES)
        elif p.is_file():
            files = [p]
        else:
            return FetchResult(error=f"文件不存在：{p}")
        docs = []
        error = None
        for f in files:
            with open(f, "rb") as fh:
                data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                data = data[:max_bytes]
                error = f"文件 {f.name} 超过上限 {max_bytes} 字节，只读取了前 {max_bytes} 字节"
            docs.append(FetchedDoc(str(f), data, None))
    except OSError as exc:
        return FetchResult(error=f"无法读取 {p}：{exc.strerror or exc}")
    return FetchResult(status=None, documents=tuple(docs), error=error, truncated=error is not None,
                       elapsed_ms=int((time.monotonic() - started) * 1000))
