"""Subcommands of ``kiosk``; each module exposes ``register(subparsers)``."""
