"""The hub's HTTP API (FastAPI): kiosk endpoints (signed) and staff endpoints (admin token)."""

from hub.api.app import create_app

__all__ = ["create_app"]
