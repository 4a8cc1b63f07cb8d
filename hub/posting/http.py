"""POST each payment to a CIS endpoint, as JSON, with retries.

The body is :meth:`PaymentToPost.as_json`; the ``Idempotency-Key`` header is the payment
id, so a CIS that honours it ignores a repeat (the hub repeats only when it could not learn
whether the CIS took a payment: a time-out, or a crash before it marked the posting). A 2xx
answer means posted. A 5xx, 408, 429 or a network error is tried again, up to ``tries``
times with exponential backoff; after that, or on any other 4xx, the posting is marked
failed with the reason and retried later (``kiosk-hub post`` or the background poster).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
from sqlalchemy import Connection

from hub.posting.base import PaymentToPost, PostingError

_RETRYABLE = frozenset({408, 429})


class HttpAdapter:
    name = "http"

    def __init__(
        self, url: str, *, timeout_s: float = 10.0, tries: int = 3, backoff_s: float = 0.5
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.tries = tries
        self.backoff_s = backoff_s

    def reference_for(self, payment: PaymentToPost, now: datetime) -> str | None:
        return None

    def apply(self, conn: Connection, payment: PaymentToPost, now: datetime) -> None:
        """Nothing to do in the hub's database."""

    def deliver(self, payment: PaymentToPost, reference: str | None) -> None:
        body = json.dumps(payment.as_json(), sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": payment.payment_id}
        last = ""
        with httpx.Client(timeout=self.timeout_s) as client:
            for attempt in range(self.tries):
                if attempt:
                    time.sleep(self.backoff_s * 2 ** (attempt - 1))
                try:
                    response = client.post(self.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                    continue
                if response.is_success:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code < 500 and response.status_code not in _RETRYABLE:
                    raise PostingError(f"the CIS refused the payment: {last}")
        raise PostingError(f"the CIS did not take the payment after {self.tries} tries: {last}")
