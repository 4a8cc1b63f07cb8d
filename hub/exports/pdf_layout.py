"""What the PDF reports share: the page, the type, tables, and bytes that do not change.

reportlab stamps a PDF with the time it was made and a random document id unless told
``invariant``; with it, the same content gives the same bytes, so a report made again for a
past day is the same file. The only time a report shows is the data's own latest change.
Every text from a kiosk or a person is put in a table cell as plain text or escaped before it
goes into a paragraph, whose markup would otherwise read it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.doctemplate import BaseDocTemplate

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 0.75 * inch
FRAME_PADDING = 6  # reportlab's frame keeps this much inside each margin
WIDTH = PAGE_WIDTH - 2 * MARGIN - 2 * FRAME_PADDING
GRID = colors.HexColor("#9aa3ab")
SHADE = colors.HexColor("#e8ecef")
ALERT = colors.HexColor("#b00020")

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("ReportTitle", parent=_styles["Title"], fontSize=16, spaceAfter=4)
HEADING = ParagraphStyle(
    "ReportHeading", parent=_styles["Heading2"], fontSize=11.5, spaceBefore=10, spaceAfter=4
)
BODY = ParagraphStyle("ReportBody", parent=_styles["BodyText"], fontSize=9.5, leading=12)
SMALL = ParagraphStyle("ReportSmall", parent=BODY, fontSize=8, leading=10, textColor=colors.grey)


def text(value: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain text: ``<``, ``&`` and the like are shown, not read as markup."""
    return Paragraph(escape(value), style)


def heading(value: str) -> Paragraph:
    return text(value, HEADING)


def facts(pairs: Sequence[tuple[str, str]]) -> Table:
    """Label / value rows, the labels in bold."""
    table = Table(
        [list(pair) for pair in pairs], colWidths=[1.7 * inch, WIDTH - 1.7 * inch], hAlign="LEFT"
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 9.5),
                ("FONT", (1, 0), (1, -1), "Helvetica", 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
            ]
        )
    )
    return table


def grid(
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    total_row: bool = False,
    numeric_from: int = 1,
    font_size: float = 9,
) -> Table:
    """A ruled table with a shaded header row; columns from ``numeric_from`` on are right
    aligned (amounts line up); a last row in bold when it is the total."""
    table = Table([list(r) for r in rows], colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", font_size),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", font_size),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if total_row:
        style += [
            ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", font_size),
            ("LINEABOVE", (0, -1), (-1, -1), 1.2, colors.black),
        ]
    table.setStyle(TableStyle(style))
    return table


def signature_lines(labels: Sequence[str]) -> Table:
    """Lines to sign on, each with a date line beside it."""
    rows: list[list[str]] = []
    for label in labels:
        rows += [["", "", ""], [label, "", "Date"]]
    table = Table(rows, colWidths=[3.6 * inch, 0.4 * inch, WIDTH - 4.0 * inch], hAlign="LEFT")
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]
    for index in range(0, len(rows), 2):
        style += [
            ("LINEBELOW", (0, index), (0, index), 0.8, colors.black),
            ("LINEBELOW", (2, index), (2, index), 0.8, colors.black),
            ("TOPPADDING", (0, index), (-1, index), 22),
        ]
    table.setStyle(TableStyle(style))
    return table


def space(points: float = 6) -> Spacer:
    return Spacer(1, points)


def render(title: str, subject: str, footer: str, story: list[Flowable]) -> bytes:
    """The report as PDF bytes: the same story gives the same bytes. ``footer`` is printed at
    the foot of every page, beside the page number."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        subject=subject,
        author="Utility kiosk hub",
        creator="kiosk-hub",
        invariant=1,
    )

    def foot(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN + FRAME_PADDING, 0.45 * inch, footer)
        canvas.drawRightString(
            PAGE_WIDTH - MARGIN - FRAME_PADDING, 0.45 * inch, f"{title}, page {doc.page}"
        )
        canvas.restoreState()

    document.build(story, onFirstPage=foot, onLaterPages=foot)
    return buffer.getvalue()
