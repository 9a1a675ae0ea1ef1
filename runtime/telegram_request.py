"""The HTTP layer every Bot API call goes through: PTB's HTTPXRequest, cheaper per call.

A flash sale is a few Bot API calls per tap, so what each call costs outside Telegram adds up
(bench/flash_sale.py). Two things PTB's HTTPXRequest does on every call that we skip:

* It sends form fields, each JSON-encoded on its own and then percent-encoded character by
  character. The Bot API takes a JSON body as well (for calls without files), which is one
  json.dumps. Calls that upload files still go as multipart, exactly as PTB sends them.
* It hands httpx the URL as a string, which httpx parses and validates again on every request.
  There are only as many URLs as endpoints we use, so each is parsed once.

Timeouts and errors behave as in HTTPXRequest (TimedOut, NetworkError), so the rate limiter and
the outbox see the same exceptions.

It is built on PTB's public BaseRequest and owns its httpx client (HTTPXRequest keeps its client in
a private attribute, which a PTB release may rename). Uploads use RequestData's public
multipart_data/json_parameters, exactly what HTTPXRequest sends.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from runtime import metrics

DefaultValue = type(BaseRequest.DEFAULT_NONE)  # "not given": use the client's timeout
# PTB's ODVInput[float]: a float, None, or DEFAULT_NONE (its type lives in a private module).
Timeout = Any
_JSON_HEADERS = {"User-Agent": BaseRequest.USER_AGENT, "Content-Type": "application/json"}
_UPLOAD_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}


class TelegramRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,  # uploads (photos, charts, exports) take longer
        httpx_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._media_write_timeout = media_write_timeout
        self._client_kwargs: dict[str, Any] = {
            "timeout": httpx.Timeout(connect=connect_timeout, read=read_timeout, write=write_timeout,
                                     pool=pool_timeout),
            "limits": httpx.Limits(max_connections=connection_pool_size),
            **(httpx_kwargs or {}),
        }
        self._client = httpx.AsyncClient(**self._client_kwargs)
        self._urls: dict[str, httpx.URL] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._client.timeout.read

    async def initialize(self) -> None:
        if self._client.is_closed:  # initialised again after a shutdown (PTB allows it)
            self._client = httpx.AsyncClient(**self._client_kwargs)

    async def shutdown(self) -> None:
        if not self._client.is_closed:
            await self._client.aclose()

    def _url(self, url: str) -> httpx.URL:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    @metrics.measured_api_call
    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        client = self._client
        if client.is_closed:
            raise RuntimeError("This TelegramRequest is not initialized!")
        uploads = request_data is not None and request_data.contains_files
        defaults = client.timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if uploads else defaults.write
        timeout = httpx.Timeout(
            connect=defaults.connect if isinstance(connect_timeout, DefaultValue) else connect_timeout,
            read=defaults.read if isinstance(read_timeout, DefaultValue) else read_timeout,
            write=write_timeout,
            pool=defaults.pool if isinstance(pool_timeout, DefaultValue) else pool_timeout,
        )
        try:
            if uploads:
                assert request_data is not None
                response = await client.request(method=method, url=self._url(url), headers=_UPLOAD_HEADERS,
                                                timeout=timeout, files=request_data.multipart_data,
                                                data=request_data.json_parameters)
            else:
                body = json.dumps(request_data.parameters if request_data else {}, ensure_ascii=False,
                                  separators=(",", ":")).encode("utf-8")
                response = await client.request(method=method, url=self._url(url), headers=_JSON_HEADERS,
                                                timeout=timeout, content=body)
        except httpx.TimeoutException as err:
            if isinstance(err, httpx.PoolTimeout):
                raise TimedOut("Pool timeout: all connections in the pool are busy; the request was not sent") \
                    from err
            raise TimedOut from err
        except httpx.HTTPError as err:
            raise NetworkError(f"httpx.{err.__class__.__name__}: {err}") from err
        return response.status_code, response.content
