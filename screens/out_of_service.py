"""Out of service: an apology and where else to pay (the city's phone, web address and
office, from the kiosk's settings). The technical reason is for the
technician (``kiosk doctor``, service mode), not for the resident."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.engine.snapshot import Snapshot
from screens.base import KioskScreen
from screens.texts import Texts


class OutOfServiceScreen(KioskScreen):
    sorry = StringProperty("")
    elsewhere = StringProperty("")
    contact = StringProperty("")

    def render(self, snapshot: Snapshot, texts: Texts) -> None:
        _ = texts._
        self.title = ""
        self.message = ""
        self.sorry = _("Sorry, this kiosk is out of service.")
        self.elsewhere = _(
            "Please use another kiosk, pay online, or call customer service. We are working on it."
        )
        self.contact = "\n".join(contact_lines(snapshot, texts))


def contact_lines(snapshot: Snapshot, texts: Texts) -> list[str]:
    """The city's customer service, one way to reach it a line, as the settings give it."""
    _ = texts._
    contact = snapshot.contact
    lines = []
    if contact.phone:
        lines.append(_("Customer service: {phone}").format(phone=contact.phone))
    if contact.web:
        lines.append(_("Pay online: {web}").format(web=contact.web))
    if contact.address:
        lines.append(_("Pay in person: {address}").format(address=contact.address))
    return lines
