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
"""

from __future__ import annotations

import json

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from runtime import metrics

DefaultValue = type(BaseRequest.DEFAULT_NONE)  # "not given": use the client's timeout
_JSON_HEADERS = {"User-Agent": HTTPXRequest.USER_AGENT, "Content-Type": "application/json"}


class TelegramRequest(HTTPXRequest):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, httpx.URL] = {}

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
        read_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None | DefaultValue = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return await super().do_request(url, method, request_data, read_timeout, write_timeout,
                                            connect_timeout, pool_timeout)
        client = self._client  # HTTPXRequest's own client: its pool, limits and transport
        if client.is_closed:
            raise RuntimeError("This TelegramRequest is not initialized!")
        defaults = client.timeout
        timeout = httpx.Timeout(
            connect=defaults.connect if isinstance(connect_timeout, DefaultValue) else connect_timeout,
            read=defaults.read if isinstance(read_timeout, DefaultValue) else read_timeout,
            write=defaults.write if isinstance(write_timeout, DefaultValue) else write_timeout,
            pool=defaults.pool if isinstance(pool_timeout, DefaultValue) else pool_timeout,
        )
        body = json.dumps(request_data.parameters if request_data else {}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        try:
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
