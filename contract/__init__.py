"""What the kiosk and the hub agree on, and nothing else.

The entry types and one pydantic model per entry type's payload (``entries``, ``payloads``),
the canonical JSON and hash chain (``chain``), every message on the wire (``wire``) and request
signing (``signing``). The kiosk writes through these models and the hub checks what arrives
against the same ones, so the two can not drift apart. This package imports nothing else of
the project, so the hub can depend on it alone.
"""
