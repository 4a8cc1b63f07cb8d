"""The finance console: server-rendered pages at ``/console``, served by the hub process.

Staff sign in with a name, a password and a TOTP code (:mod:`hub.staff`); every page and
every action checks the person's role on the server (:mod:`hub.console.guard`); every form
that changes something carries the session's CSRF token. No JavaScript is needed.
"""

from hub.console.routes import install

__all__ = ["install"]
