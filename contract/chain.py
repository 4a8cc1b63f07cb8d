"""The journal's hash chain, as the kiosk writes it and the hub checks it.

Kept apart from the store (and free of any dependency) because it is part of the wire
contract: the hub recomputes these hashes over replicated entries, through ``contract.wire``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS = "0" * 64


def canonical_json(obj: Any) -> str:
    """The one text of a value that is hashed: sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(
    prev_hash: str, seq: int, id: str, at_text: str, type: str, payload: Mapping[str, Any]
) -> str:
    """sha256 of the previous hash followed by the canonical JSON of the entry itself."""
    body = canonical_json({"seq": seq, "id": id, "at": at_text, "type": type, "payload": payload})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
