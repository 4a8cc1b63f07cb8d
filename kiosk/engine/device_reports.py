"""What devices report about themselves, journaled whatever the engine is doing.

A fault, a notice and a recovery are facts for technicians and the hub (which shows an open
fault as an alert until the device's ``device.recovered``), not steps of a payment, so they
are journaled in any state. A fault the device repeats while the same fault is still open
(a driver that reconnects into the same jam, recovery and the engine both hearing it) is
journaled once: the hub's alert already says it, and a repeat would only move its "since".
"""

from __future__ import annotations

from contract import payloads
from kiosk.engine.base import EngineBase
from kiosk.ports import DeviceFault, DeviceNotice, DeviceRecovered


class DeviceReports(EngineBase):
    _open_faults: dict[str, str]
    """device -> the reason of its fault journaled last, until it recovers"""

    def _journal_fault(self, device: str, reason: str) -> None:
        self._note_fault(device, reason)
        if self._open_faults.get(device) == reason:
            return
        self._open_faults[device] = reason
        self._record(payloads.DeviceFault(device=device, reason=reason))

    def _observe_device(self, event: DeviceFault | DeviceNotice | DeviceRecovered) -> None:
        if isinstance(event, DeviceFault):
            self._journal_fault(event.device, event.reason)
        elif isinstance(event, DeviceRecovered):
            self._open_faults.pop(event.device, None)
            self._record(payloads.DeviceRecovered(device=event.device))
        else:
            self._record(
                payloads.DeviceNotice(device=event.device, kind=event.kind, detail=event.detail)
            )
