"""Masking of what a stranger behind the resident could read on the screen or a receipt."""

from __future__ import annotations


def mask_account(number: str) -> str:
    digits = number.strip()
    if len(digits) <= 4:
        return digits
    return "•" * (len(digits) - 4) + digits[-4:]


def mask_name(name: str) -> str:
    """``"Maria Gonzalez"`` -> ``"Maria G."``: enough to recognise, not to learn."""
    parts = name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0][:1] + "***"
    return f"{parts[0]} {' '.join(p[0] + '.' for p in parts[1:])}"


def mask_address(address: str) -> str:
    """Keep the street and hide the house number: ``"1234 Oak St"`` -> ``"12•• Oak St"``."""
    head, _, rest = address.partition(" ")
    if head.isdigit() and rest:
        keep = head[: max(1, len(head) // 2)]
        return keep + "•" * (len(head) - len(keep)) + " " + rest
    return address
