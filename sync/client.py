"""A signed HTTP client for the hub's kiosk API (docs/hub.md), over ``requests``.

What it is for: one place that turns every way a request can go wrong into one of two
answers the callers can act on.

- :class:`HubUnavailable`: no usable answer. The connection was refused or dropped, a
  time-out passed, the answer was cut short or garbled, or the hub (or the proxy in front
  of it) answered 5xx. Worth trying again later: the hub's API is idempotent.
- :class:`HubRefused`: the hub answered and said no (4xx, with its error code and message):
  a bad signature, a used enrollment code, a schema error. Trying the same again will not
  help by itself.

A journal push that the hub will not store is neither: it is a normal answer,
:class:`contract.wire.Conflict`, returned by :meth:`HubClient.push`.

Signing covers the exact path and query as sent: the request is prepared first and the
signature computed over ``PreparedRequest.path_url``, the very text on the request line.
Each thread gets its own ``requests.Session`` (sessions are not documented as thread-safe);
``requests`` retries nothing by itself here, so every retry is the caller's decision.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import requests
from pydantic import BaseModel, ValidationError
from urllib3.exceptions import NewConnectionError

from contract.signing import sign
from contract.wire import (
    Account,
    AccountDelta,
    AccountSnapshot,
    Conflict,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    Health,
    KioskSettings,
    PushRequest,
    PushResponse,
    WireEntry,
)
from sync.connectivity import Connectivity

Model = TypeVar("Model", bound=BaseModel)
#: (connect, read) seconds; a read time-out is per gap between bytes, not the whole answer
Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (3.0, 10.0)
USER_AGENT = "utility-kiosk-sync/1"


class HubError(Exception):
    """Something went wrong talking to the hub; ``str()`` is for a technician."""


class HubUnavailable(HubError):
    """No usable answer (network, time-out, truncated or garbled body, 5xx): retry later.

    ``reached`` says whether the hub itself got the request: False when no connection could
    be made (refused, unreachable, a connect time-out) or a gateway in front of the hub
    answered that the hub is not there (502, 504); True when the hub answered badly, too
    slowly, or said it is busy. A hub that was not there can be watched for cheaply until
    it is back; a hub that is there but struggling is left alone for the backoff.
    """

    def __init__(self, message: str, *, reached: bool = True) -> None:
        super().__init__(message)
        self.reached = reached


class HubRefused(HubError):
    """The hub answered 4xx. ``status`` and ``code`` (``invalid_code``, ``unauthorized``…)
    let a caller branch; ``message`` is the hub's own explanation."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"the hub refused the request ({status} {code}): {message}")
        self.status = status
        self.code = code
        self.message = message


class HubClient:
    """Calls the hub's kiosk API; signed once ``kiosk_id`` and ``secret`` are given."""

    def __init__(
        self,
        base_url: str,
        kiosk_id: str | None = None,
        secret: str | None = None,
        *,
        timeout: Timeout = DEFAULT_TIMEOUT,
        connectivity: Connectivity | None = None,
        clock: Callable[[], float] = time.time,
        session_factory: Callable[[], requests.Session] = requests.Session,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the hub URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.kiosk_id = kiosk_id
        self._secret = secret
        self.timeout = timeout
        self.connectivity = connectivity or Connectivity()
        self._clock = clock
        self._session_factory = session_factory
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # ------------------------------------------------------------------------ the API

    def health(self, timeout: Timeout | None = None) -> Health:
        return self._model(Health, self.request("GET", "/v1/health", signed=False, timeout=timeout))

    def enroll(self, request: EnrollRequest, timeout: Timeout | None = None) -> EnrollResponse:
        body = request.model_dump_json().encode("utf-8")
        answer = self.request("POST", "/v1/enroll", body=body, signed=False, timeout=timeout)
        return self._model(EnrollResponse, answer)

    def ack(self, timeout: Timeout | None = None) -> PushResponse:
        """Where the hub's copy of this kiosk's journal ends."""
        return self._model(
            PushResponse, self.request("GET", f"{self._kiosk_path()}/journal/ack", timeout=timeout)
        )

    def push(
        self,
        entries: Sequence[WireEntry],
        timeout: Timeout | None = None,
        head_seq: int | None = None,
    ) -> PushResponse | Conflict:
        """Send consecutive entries (``head_seq``: the journal's last seq, for the console's
        backlog); the hub's acknowledgement, or its 409 conflict."""
        push = PushRequest(entries=list(entries), head_seq=head_seq)
        body = push.model_dump_json(exclude_none=True).encode("utf-8")
        answer = self.request(
            "POST", f"{self._kiosk_path()}/journal", body=body, timeout=timeout, accept=(409,)
        )
        if answer.status_code == 409:
            return self._model(Conflict, answer)
        return self._model(PushResponse, answer)

    def settings(self, timeout: Timeout | None = None) -> KioskSettings:
        return self._model(
            KioskSettings, self.request("GET", f"{self._kiosk_path()}/settings", timeout=timeout)
        )

    def account(self, number: str, timeout: Timeout | None = None) -> Account | None:
        """Live lookup; None when the hub does not know the account (404)."""
        answer = self.request(
            "GET", f"/v1/accounts/{quote(number, safe='')}", timeout=timeout, accept=(404,)
        )
        if answer.status_code == 404:
            return None
        return self._model(Account, answer)

    def snapshot(self, timeout: Timeout | None = None) -> AccountSnapshot:
        return self._model(
            AccountSnapshot, self.request("GET", "/v1/accounts/snapshot", timeout=timeout)
        )

    def delta(self, since: int, timeout: Timeout | None = None) -> AccountDelta:
        answer = self.request("GET", "/v1/accounts/delta", params={"since": since}, timeout=timeout)
        return self._model(AccountDelta, answer)

    # --------------------------------------------------------------------- transport

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: bytes = b"",
        signed: bool = True,
        timeout: Timeout | None = None,
        accept: Sequence[int] = (),
    ) -> requests.Response:
        """One request; the answer if it is 2xx or in ``accept``, else an exception."""
        target = path + (f"?{urlencode(params)}" if params else "")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
        session = self._session()
        prepared = session.prepare_request(
            requests.Request(method, self.base_url + target, data=body or None, headers=headers)
        )
        if signed:
            if self.kiosk_id is None or self._secret is None:
                raise HubError("this kiosk is not enrolled: run `kiosk provision` first")
            prepared.headers.update(
                sign(method, prepared.path_url, body, self.kiosk_id, self._secret, self._clock())
            )
        try:
            answer = session.send(prepared, timeout=timeout or self.timeout, allow_redirects=False)
        except requests.ConnectTimeout as exc:
            reason = f"can not reach {self.base_url} in time ({_cause(exc)})"
            raise self._unavailable(reason, reached=False) from exc
        except requests.Timeout as exc:
            reason = f"no answer from {self.base_url} in time ({_cause(exc)})"
            raise self._unavailable(reason) from exc
        except requests.ConnectionError as exc:
            # refused or unreachable; or dropped, which may have been after the hub took it
            reached = not _never_connected(exc)
            reason = f"can not reach {self.base_url} ({_cause(exc)})"
            raise self._unavailable(reason, reached=reached) from exc
        except requests.RequestException as exc:
            raise self._unavailable(f"can not reach {self.base_url} ({_cause(exc)})") from exc
        if answer.status_code >= 500 or answer.status_code == 408:  # 408: a body cut off
            raise self._unavailable(
                f"the hub answered {answer.status_code}: {_brief(answer)}",
                reached=answer.status_code not in _GATEWAY_WITHOUT_HUB,
            )
        self.connectivity.succeeded()
        if answer.status_code < 300 or answer.status_code in accept:
            return answer
        error = _error_body(answer)
        raise HubRefused(answer.status_code, error.error, error.message)

    def close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    # ------------------------------------------------------------------------ helpers

    def _kiosk_path(self) -> str:
        if self.kiosk_id is None:
            raise HubError("this kiosk is not enrolled: run `kiosk provision` first")
        return f"/v1/kiosks/{quote(self.kiosk_id, safe='')}"

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory()
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _unavailable(self, reason: str, *, reached: bool = True) -> HubUnavailable:
        self.connectivity.failed(reason)
        return HubUnavailable(reason, reached=reached)

    def _model(self, model: type[Model], answer: requests.Response) -> Model:
        """Parse an answer; a body cut short or not what the API promises is no answer."""
        try:
            return model.model_validate_json(answer.content)
        except ValidationError as exc:
            # a truncated body fails here too: treat it like a dropped connection
            self.connectivity.failed("garbled answer")
            raise HubUnavailable(
                f"the hub's answer to {answer.request.method} {answer.request.path_url} "
                f"is not a valid {model.__name__} ({exc.error_count()} problem(s), "
                f"first: {exc.errors()[0]['msg']})"
            ) from exc


#: what a gateway in front of the hub answers when the hub is not there (bad gateway, time-out)
_GATEWAY_WITHOUT_HUB = frozenset({502, 504})


def _never_connected(exc: BaseException) -> bool:
    """A connection error from before any byte was sent: refused, no route, a name that
    does not resolve (urllib3's ``NewConnectionError`` somewhere in the chain)."""
    reason: BaseException | None = exc
    for _ in range(6):
        if reason is None:
            return False
        if isinstance(reason, NewConnectionError | ConnectionRefusedError):
            return True
        inner = getattr(reason, "reason", None)
        if not isinstance(inner, BaseException) and reason.args:
            inner = reason.args[0]
        reason = inner if isinstance(inner, BaseException) and inner is not reason else None
    return False


def _error_body(answer: requests.Response) -> ErrorBody:
    try:
        return ErrorBody.model_validate_json(answer.content)
    except ValidationError:
        return ErrorBody(error=f"http_{answer.status_code}", message=_brief(answer))


def _brief(answer: requests.Response) -> str:
    try:
        document = json.loads(answer.content)
        if isinstance(document, dict) and "message" in document:
            return str(document["message"])[:300]
    except ValueError:
        pass
    return (answer.text or answer.reason or "").strip()[:300]


def _cause(exc: BaseException) -> str:
    """The innermost reason (``Connection refused``) rather than urllib3's long repr."""
    reason: BaseException = exc
    for _ in range(6):  # requests wraps urllib3's MaxRetryError, which wraps the OS error
        inner = getattr(reason, "reason", None)
        if not isinstance(inner, BaseException) and reason.args:
            inner = reason.args[0]
        if not isinstance(inner, BaseException) or inner is reason:
            break
        reason = inner
    text = str(reason) or type(reason).__name__
    return text if len(text) <= 200 else text[:200] + "..."
