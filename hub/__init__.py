"""The central endpoint kiosks replicate to.

``hub.api.create_app(settings)`` builds the HTTP API (FastAPI, OpenAPI at ``/openapi.json``);
``hub.cli:main`` is the ``kiosk-hub`` command. The hub shares only :mod:`contract.wire` (and the
request signing in :mod:`contract.signing`) with the kiosk. See docs/hub.md.
"""

__version__ = "0.1.0"
