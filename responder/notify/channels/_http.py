"""Shared httpx plumbing for the HTTP-based channels: one client reused for a batch, errors classified."""

from __future__ import annotations

import httpx

from responder.notify.channels.base import ChannelError


class HttpClientMixin:
    timeout: float = 10.0
    reuse: bool = True
    _client: httpx.AsyncClient | None = None

    def _get_client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            # Keep-alive pool: one TCP (and TLS) handshake per batch instead of per SMS.
            self._client = httpx.AsyncClient(timeout=self.timeout, trust_env=False,
                                             limits=httpx.Limits(max_connections=16, max_keepalive_connections=16))
        return self._client

    async def _request(self, method: str, url: str, **kw) -> httpx.Response:
        client = self._get_client()
        try:
            return await client.request(method, url, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing reached the provider: a plain retry is safe.
            raise ChannelError(f"cannot connect: {exc}", permanent=False, code="connect") from None
        except httpx.TimeoutException as exc:
            # The request may have been processed: the outcome is unknown.
            raise ChannelError(f"no answer within {self.timeout}s: {type(exc).__name__}", permanent=False,
                               code="timeout", unknown=True) from None
        except httpx.HTTPError as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}", permanent=False, code="transport", unknown=True) from None
        finally:
            if not self.reuse:
                await self.flush()

    async def flush(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def retry_after(resp: httpx.Response, default: float) -> float:
    v = resp.headers.get("Retry-After")
    try:
        return max(float(v), 1.0) if v else default
    except ValueError:
        return default


def json_or_none(resp: httpx.Response):
    try:
        return resp.json()
    except ValueError:
        return None
