"""POST each payment to a CIS endpoint, as JSON, with retries; ask before sending again.

The body is :meth:`PaymentToPost.as_json`; the ``Idempotency-Key`` header is the payment
id. A 2xx answer means posted; the billing system's own reference for the payment (the
``reference_field`` of a JSON answer, if there is one) is kept as the posting's reference.
A 5xx, 408, 429 or a network error is tried again, up to ``tries`` times with exponential
backoff; after that, or on any other 4xx, the posting is marked failed with the reason and
retried later (``kiosk-hub post`` or the background poster).

A time-out is different: the billing system may have taken the payment and only its answer
was lost. When it offers a look-up (``lookup_url``, a GET with ``{payment_id}`` in it), the
hub asks before sending again: 200 means it has the payment (posted, with the reference
from that answer), 404 that it has not (send again); anything else leaves the posting failed
for a later try, since sending blind could post it twice. Without a look-up the hub sends
again with the same idempotency key, which the billing system must honour.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from urllib.parse import quote

import httpx
from sqlalchemy import Connection

from hub.posting.base import PaymentToPost, PostingError

_RETRYABLE = frozenset({408, 429})


class HttpAdapter:
    name = "http"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        tries: int = 3,
        backoff_s: float = 0.5,
        lookup_url: str | None = None,
        reference_field: str = "reference",
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.tries = tries
        self.backoff_s = backoff_s
        self.lookup_url = lookup_url
        self.reference_field = reference_field

    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None:
        return None

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None:
        """Nothing to do in the hub's database."""

    def deliver(self, payment: PaymentToPost, reference: str | None) -> str | None:
        body = json.dumps(payment.as_json(), sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": payment.payment_id}
        last = ""
        timed_out = False
        with httpx.Client(timeout=self.timeout_s) as client:
            for attempt in range(self.tries):
                if attempt:
                    time.sleep(self.backoff_s * 2 ** (attempt - 1))
                if timed_out and self.lookup_url is not None:
                    found, theirs = self._look_up(client, payment.payment_id)
                    if found:
                        return theirs
                try:
                    response = client.post(self.url, content=body, headers=headers)
                except httpx.TimeoutException as exc:
                    timed_out = True
                    last = f"no answer in {self.timeout_s:g} s ({type(exc).__name__})"
                    continue
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    continue
                if response.is_success:
                    return self._reference(response)
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code < 500 and response.status_code not in _RETRYABLE:
                    raise PostingError(f"the CIS refused the payment: {last}")
            if timed_out and self.lookup_url is not None:
                found, theirs = self._look_up(client, payment.payment_id)
                if found:
                    return theirs
        raise PostingError(f"the CIS did not take the payment after {self.tries} tries: {last}")

    def _look_up(self, client: httpx.Client, payment_id: str) -> tuple[bool, str | None]:
        """Whether the billing system already has the payment, and its reference for it."""
        assert self.lookup_url is not None
        url = self.lookup_url.replace("{payment_id}", quote(payment_id, safe=""))
        try:
            response = client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise PostingError(
                f"the CIS did not answer in time, and asking whether it has the payment "
                f"failed too ({type(exc).__name__}); not sent again blind"
            ) from exc
        if response.status_code == 404:
            return False, None
        if response.is_success:
            return True, self._reference(response)
        raise PostingError(
            f"the CIS did not answer in time, and asking whether it has the payment gave "
            f"HTTP {response.status_code}; not sent again blind"
        )

    def _reference(self, response: httpx.Response) -> str | None:
        """The billing system's reference, if its answer is a JSON object that has one."""
        try:
            answer = response.json()
        except ValueError:
            return None
        value = answer.get(self.reference_field) if isinstance(answer, dict) else None
        return None if value is None or isinstance(value, dict | list) else str(value)
