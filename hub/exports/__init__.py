"""Finance exports: CSV files and PDF reports a clerk downloads, made again for any past day.

Each export is a function of the database and the hub's time zone only, never of the clock:
the same day exported twice, with nothing changed in between, gives the same bytes. The
console serves them; ``kiosk-hub export`` writes them to a file (docs/hub.md, "Exports").
"""

from __future__ import annotations

from hub.exports.batch_report import batch_report_pdf
from hub.exports.csv_files import audit_csv, batches_csv, over_short_csv, payments_csv
from hub.exports.deposit_slip import deposit_slip_pdf
from hub.exports.names import file_name

__all__ = [
    "audit_csv",
    "batch_report_pdf",
    "batches_csv",
    "deposit_slip_pdf",
    "file_name",
    "over_short_csv",
    "payments_csv",
]
