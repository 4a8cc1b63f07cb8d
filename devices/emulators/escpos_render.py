"""A small ESC/POS interpreter and a renderer of what it printed, for the printer emulator.

The interpreter is the printer's side of the byte stream: it takes bytes in whatever pieces
the serial line delivers them, keeps the text style (bold, size, alignment, code page) the
commands set, breaks text into lines 42 columns wide as a real 80 mm printer does, stores and
prints QR codes (``GS ( k``), and hands the finished page over at each cut (``GS V``). It
answers nothing itself: real-time requests (``DLE EOT n``) go to a callback, so the emulator
answers from its own paper and cover state.

Commands it does not know are skipped by their documented length where one is known, else by
their two-byte prefix; no input can make it raise or run away (a property test feeds it
random and corrupted bytes). The page it builds can be shown as plain text (what tests read)
and drawn as a PNG on a white 576-dot-wide paper strip (what a person looks at).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import qrcode
import qrcode.constants
import qrcode.exceptions
from PIL import Image, ImageDraw, ImageFont

Align = Literal["left", "center", "right"]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT = 0x0A, 0x0D, 0x09

PRINT_DOTS = 504
"""Printable dots of a line: 42 Font A characters of 12 dots (80 mm paper)."""
FONT_DOTS = {0: 12, 1: 9}
"""Character width in dots of Font A and Font B (42 and 56 columns)."""
LINE_DOTS = 30
"""Default line spacing (ESC 2)."""
COLUMNS = PRINT_DOTS // FONT_DOTS[0]

MAX_DECLARED = 1 << 20
"""A command that announces more data than this is garbage: skip its header only."""
MAX_ITEMS = 4000
"""Items on one page before further output is dropped (a real roll ends too)."""
MAX_BARCODE = 255

CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}
"""``ESC t n`` -> the Python codec for the page (unknown pages fall back to CP437)."""

QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}

_ALIGN: dict[int, Align] = {
    0: "left",
    48: "left",
    1: "center",
    49: "center",
    2: "right",
    50: "right",
}
_ESC_TWO = frozenset(b"SL<\x0c")
"""``ESC x`` with no parameter: standard/page mode, return home, print in page mode."""
_ESC_THREE = frozenset(b"!EG-aMtd3J{R =rUVTKe%?")
"""``ESC x n``."""
_ESC_FIXED = {ord("c"): 4, ord("$"): 4, ord("\\"): 4, ord("B"): 4, ord("p"): 5, ord("W"): 10}
"""``ESC x`` with a fixed number of parameter bytes (length includes ESC x)."""
_GS_THREE = frozenset(b"!BbHhwfarI|/ET")
_GS_FOUR = frozenset(b"PLW$\\")


# ----------------------------------------------------------------------------- the page


@dataclass(frozen=True, slots=True)
class Span:
    """Characters printed with one style."""

    text: str
    bold: bool = False
    underline: bool = False
    invert: bool = False
    width: int = 1
    height: int = 1
    font: int = 0

    @property
    def dots(self) -> int:
        return len(self.text) * FONT_DOTS.get(self.font, 12) * self.width


@dataclass(frozen=True, slots=True)
class TextLine:
    spans: tuple[Span, ...]
    align: Align = "left"
    spacing: int = LINE_DOTS
    empty_height: int = 1

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    @property
    def height(self) -> int:
        return max((span.height for span in self.spans), default=self.empty_height)

    @property
    def dots(self) -> int:
        return sum(span.dots for span in self.spans)


@dataclass(frozen=True, slots=True)
class QrSymbol:
    data: str
    module: int = 3
    ec: str = "L"
    align: Align = "left"


@dataclass(frozen=True, slots=True)
class Feed:
    dots: int


Item = TextLine | QrSymbol | Feed


@dataclass
class Page:
    """What was printed since the last cut."""

    items: list[Item] = field(default_factory=list)
    dropped: int = 0

    @property
    def has_content(self) -> bool:
        return any(
            isinstance(i, QrSymbol) or (isinstance(i, TextLine) and i.spans) for i in self.items
        )

    def qr_data(self) -> list[str]:
        return [i.data for i in self.items if isinstance(i, QrSymbol)]

    def lines(self) -> list[str]:
        """Plain text, 42 columns: alignment kept, double width shown as single characters."""
        out: list[str] = []
        for item in self.items:
            if isinstance(item, Feed):
                out.extend([""] * min(item.dots // LINE_DOTS, 20))
            elif isinstance(item, QrSymbol):
                out.append(_place(f"[QR {item.data}]", len(item.data) + 5, item.align))
            else:
                # placed as if single width, so a large line reads centred in plain text too
                out.append(_place(item.text, len(item.text), item.align))
        while out and not out[-1].strip():
            out.pop()
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def _place(text: str, columns: int, align: Align) -> str:
    room = max(0, COLUMNS - columns)
    if align == "center":
        return (" " * (room // 2) + text).rstrip()
    if align == "right":
        return (" " * room + text).rstrip()
    return text.rstrip()


# ----------------------------------------------------------------------------- the interpreter


@dataclass
class _Style:
    bold: bool = False
    underline: bool = False
    invert: bool = False
    width: int = 1
    height: int = 1
    font: int = 0
    align: Align = "left"
    code_page: int = 0
    spacing: int = LINE_DOTS


@dataclass
class _Qr:
    module: int = 3
    ec: str = "L"
    data: bytes = b""


class Interpreter:
    """Turns ESC/POS bytes into pages; see the module docstring.

    Callbacks, all called on the thread that calls :meth:`feed`:

    - ``on_status(n)`` for ``DLE EOT n`` (n = 1..4): the host wants one status byte now;
    - ``can_print()`` before anything goes on paper: False drops it (no paper, cover open);
    - ``on_printed(item)`` after something went on paper (the emulator counts lines);
    - ``on_cut(page)`` at ``GS V``, with the page printed since the last cut.
    """

    def __init__(
        self,
        on_status: Callable[[int], None],
        on_cut: Callable[[Page], None],
        can_print: Callable[[], bool] = lambda: True,
        on_printed: Callable[[Item], None] = lambda item: None,
    ) -> None:
        self.on_status = on_status
        self.on_cut = on_cut
        self.can_print = can_print
        self.on_printed = on_printed
        self.page = Page()
        self._buf = bytearray()
        self._style = _Style()
        self._qr = _Qr()
        self._line: list[Span] = []
        self._line_dots = 0
        self._line_align: Align = "left"
        self.unknown_commands = 0

    # ------------------------------------------------------------------ public
    def feed(self, data: bytes) -> None:
        self._buf += data
        position = 0
        while position < len(self._buf):
            used = self._step(position)
            if used == 0:
                break
            position += used
        del self._buf[:position]

    def take_page(self) -> Page:
        """Hand over what is on paper now and start a new page (paper ran out, unplugged)."""
        self._line, self._line_dots = [], 0
        page, self.page = self.page, Page()
        return page

    def reset(self) -> None:
        """Power cycle: forget the buffer, styles and the page."""
        self._buf.clear()
        self._style = _Style()
        self._qr = _Qr()
        self._line, self._line_dots = [], 0
        self.page = Page()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a command."""
        return len(self._buf)

    # ------------------------------------------------------------------ parsing
    def _step(self, i: int) -> int:
        """Handle the command or character at ``i``; bytes used, or 0 to wait for more."""
        buf = self._buf
        byte = buf[i]
        if byte == ESC:
            return self._esc(i)
        if byte == GS:
            return self._gs(i)
        if byte == FS:
            return self._fs(i)
        if byte == DLE:
            return self._dle(i)
        if byte == LF:
            self._newline()
            return 1
        if byte == HT:
            self._tab()
            return 1
        if byte < 0x20 or byte == 0x7F:
            return 1  # CR, NUL, CAN, FF...: nothing to print in standard mode
        end = i
        while end < len(buf) and (buf[end] >= 0x80 or 0x20 <= buf[end] < 0x7F):
            end += 1
        self._text(bytes(buf[i:end]))
        return end - i

    def _need(self, i: int, count: int) -> bool:
        return len(self._buf) - i >= count

    def _esc(self, i: int) -> int:
        buf = self._buf
        if not self._need(i, 2):
            return 0
        cmd = buf[i + 1]
        if cmd == ord("@"):
            self._init()
            return 2
        if cmd == ord("2"):
            self._style.spacing = LINE_DOTS
            return 2
        if cmd in b"im":  # partial cut, older printers
            self._cut()
            return 2
        if cmd in _ESC_TWO:
            return 2
        if cmd in _ESC_THREE:
            if not self._need(i, 3):
                return 0
            self._esc_n(cmd, buf[i + 2])
            return 3
        if cmd in _ESC_FIXED:
            length = _ESC_FIXED[cmd]
            return length if self._need(i, length) else 0
        if cmd == ord("*"):  # bit image: ESC * m nL nH d1..dk
            if not self._need(i, 5):
                return 0
            m, count = buf[i + 2], buf[i + 3] + 256 * buf[i + 4]
            total = 5 + count * (3 if m in (32, 33) else 1)
            return total if self._need(i, total) else 0
        if cmd == ord("D"):  # tab positions, NUL-terminated, at most 32
            end = buf.find(0, i + 2, i + 2 + 33)
            if end >= 0:
                return end - i + 1
            return 2 + 33 if self._need(i, 2 + 33) else 0
        if cmd == ord("("):  # ESC ( X pL pH ...
            if not self._need(i, 5):
                return 0
            return self._sized(i, 5, buf[i + 3] + 256 * buf[i + 4])
        self.unknown_commands += 1
        return 2

    def _esc_n(self, cmd: int, n: int) -> None:
        style = self._style
        if cmd == ord("!"):
            style.font = n & 0x01
            style.bold = bool(n & 0x08)
            style.height = 2 if n & 0x10 else 1
            style.width = 2 if n & 0x20 else 1
            style.underline = bool(n & 0x80)
        elif cmd in b"EG":
            style.bold = bool(n & 0x01)
        elif cmd == ord("-"):
            style.underline = n in (1, 2, 49, 50)
        elif cmd == ord("a"):
            # each line keeps the alignment set when its first character arrived
            style.align = _ALIGN.get(n, "left")
        elif cmd == ord("M"):
            style.font = 1 if n in (1, 49) else 0
        elif cmd == ord("t"):
            style.code_page = n
        elif cmd == ord("d"):
            self._print_and_feed(n * style.spacing)
        elif cmd == ord("J"):
            self._print_and_feed(n)
        elif cmd == ord("3"):
            style.spacing = n
        # ESC { n, ESC R n, ESC = n, ESC r n, ESC SP n ...: no effect on this emulator

    def _gs(self, i: int) -> int:
        buf = self._buf
        if not self._need(i, 2):
            return 0
        cmd = buf[i + 1]
        if cmd in _GS_THREE:
            if not self._need(i, 3):
                return 0
            n = buf[i + 2]
            if cmd == ord("!"):
                self._style.width = min(8, ((n >> 4) & 0x07) + 1)
                self._style.height = min(8, (n & 0x07) + 1)
            elif cmd == ord("B"):
                self._style.invert = bool(n & 0x01)
            return 3
        if cmd in _GS_FOUR:
            return 4 if self._need(i, 4) else 0
        if cmd == ord("V"):
            if not self._need(i, 3):
                return 0
            m = buf[i + 2]
            if m in (65, 66, 97, 98, 103, 104):
                if not self._need(i, 4):
                    return 0
                self._print_and_feed(buf[i + 3])
                self._cut()
                return 4
            self._cut()
            return 3
        if cmd == ord("("):
            if not self._need(i, 5):
                return 0
            size = buf[i + 3] + 256 * buf[i + 4]
            if buf[i + 2] == ord("k"):
                return self._sized(i, 5, size, self._two_d)
            return self._sized(i, 5, size)
        if cmd == ord("8"):  # GS 8 L p1 p2 p3 p4 ...
            if not self._need(i, 7):
                return 0
            size = int.from_bytes(bytes(buf[i + 3 : i + 7]), "little")
            return self._sized(i, 7, size)
        if cmd == ord("v"):  # GS v 0 m xL xH yL yH d...
            if not self._need(i, 8):
                return 0
            size = (buf[i + 4] + 256 * buf[i + 5]) * (buf[i + 6] + 256 * buf[i + 7])
            return self._sized(i, 8, size)
        if cmd == ord("k"):
            return self._barcode(i)
        self.unknown_commands += 1
        return 2

    def _fs(self, i: int) -> int:
        if not self._need(i, 2):
            return 0
        cmd = self._buf[i + 1]
        if cmd in b"!C-":
            return 3 if self._need(i, 3) else 0
        if cmd == ord("p"):
            return 4 if self._need(i, 4) else 0
        if cmd not in b"&.":
            self.unknown_commands += 1
        return 2

    def _dle(self, i: int) -> int:
        if not self._need(i, 2):
            return 0
        cmd = self._buf[i + 1]
        if cmd == 0x04:  # DLE EOT n: real-time status
            if not self._need(i, 3):
                return 0
            n = self._buf[i + 2]
            if n in (1, 2, 3, 4):
                self.on_status(n)
                return 3
            if n in (7, 8):  # DLE EOT 7 a / DLE EOT 8 a
                return 4 if self._need(i, 4) else 0
            return 3
        if cmd == 0x05:  # DLE ENQ n
            return 3 if self._need(i, 3) else 0
        if cmd == 0x14:  # DLE DC4 fn ...
            if not self._need(i, 3):
                return 0
            length = 10 if self._buf[i + 2] == 8 else 5
            return length if self._need(i, length) else 0
        return 1  # a lone DLE is a control character with no effect

    def _sized(
        self,
        i: int,
        header: int,
        size: int | None,
        handle: Callable[[bytes], None] | None = None,
    ) -> int:
        """A command with a declared length: wait for all of it, or skip a silly header."""
        if size is None:
            return 0
        if size > MAX_DECLARED:
            self.unknown_commands += 1
            return header
        total = header + size
        if not self._need(i, total):
            return 0
        if handle is not None:
            handle(bytes(self._buf[i + header : i + total]))
        return total

    def _barcode(self, i: int) -> int:
        buf = self._buf
        if not self._need(i, 3):
            return 0
        m = buf[i + 2]
        if m <= 6:  # NUL-terminated data
            end = buf.find(0, i + 3, i + 3 + MAX_BARCODE + 1)
            if end < 0:
                return 3 + MAX_BARCODE + 1 if self._need(i, 3 + MAX_BARCODE + 1) else 0
            return end - i + 1
        if not self._need(i, 4):
            return 0
        total = 4 + buf[i + 3]
        return total if self._need(i, total) else 0

    def _two_d(self, body: bytes) -> None:
        """``GS ( k``: ``cn fn params``; only QR (cn = 49) is kept."""
        if len(body) < 2 or body[0] != 49:
            return
        fn, params = body[1], body[2:]
        if fn == 67 and params:
            self._qr.module = max(1, min(16, params[0]))
        elif fn == 69 and params:
            self._qr.ec = QR_EC.get(params[0], "L")
        elif fn == 80 and params:
            self._qr.data = params[1:]
        elif fn == 81:
            self._print_qr()

    # ------------------------------------------------------------------ printing
    def _text(self, raw: bytes) -> None:
        codec = CODE_PAGES.get(self._style.code_page, "cp437")
        text = codecs.decode(raw, codec, errors="replace")
        style = self._style
        char_dots = FONT_DOTS.get(style.font, 12) * style.width
        for char in text:
            if self._line_dots + char_dots > PRINT_DOTS:
                self._newline()  # the printer wraps a line that does not fit
            if char_dots > PRINT_DOTS:
                return
            if not self._line:
                self._line_align = style.align
            last = self._line[-1] if self._line else None
            span = Span(
                char,
                style.bold,
                style.underline,
                style.invert,
                style.width,
                style.height,
                style.font,
            )
            if last is not None and _same_style(last, span):
                self._line[-1] = Span(
                    last.text + char,
                    last.bold,
                    last.underline,
                    last.invert,
                    last.width,
                    last.height,
                    last.font,
                )
            else:
                self._line.append(span)
            self._line_dots += char_dots

    def _tab(self) -> None:
        column = self._line_dots // FONT_DOTS[0]
        spaces = 8 - column % 8
        if self._line_dots + spaces * FONT_DOTS[0] <= PRINT_DOTS:
            self._text(b" " * spaces)

    def _newline(self) -> None:
        line = TextLine(tuple(self._line), self._line_align if self._line else self._style.align)
        line = TextLine(line.spans, line.align, self._style.spacing, self._style.height)
        self._line, self._line_dots = [], 0
        self._put(line)

    def _print_and_feed(self, dots: int) -> None:
        if self._line:
            self._newline()
            dots = max(0, dots - self._style.spacing)
        if dots:
            self._put(Feed(dots))

    def _print_qr(self) -> None:
        if self._line:
            self._newline()
        if not self._qr.data:
            return
        data = self._qr.data.decode("utf-8", errors="replace")
        self._put(QrSymbol(data, self._qr.module, self._qr.ec, self._style.align))

    def _put(self, item: Item) -> None:
        if not self.can_print() or len(self.page.items) >= MAX_ITEMS:
            self.page.dropped += 1
            return
        self.page.items.append(item)
        self.on_printed(item)

    def _cut(self) -> None:
        if self._line:
            self._newline()
        if not self.can_print():
            return  # the cutter does not move while the printer is stopped
        page, self.page = self.page, Page()
        self.on_cut(page)

    def _init(self) -> None:
        self._line, self._line_dots = [], 0
        self._style = _Style()
        self._qr = _Qr()


def _same_style(a: Span, b: Span) -> bool:
    return (a.bold, a.underline, a.invert, a.width, a.height, a.font) == (
        b.bold,
        b.underline,
        b.invert,
        b.width,
        b.height,
        b.font,
    )


# ----------------------------------------------------------------------------- the picture

PAPER_PX = 576
"""80 mm paper at 203 dpi: 576 dots, one pixel each."""
CELL_PX = 13
"""A Font A character cell: 42 x 13 = 546 px of the 576, centred like the print head."""
GLYPH_PX = 26
FONT_SIZE = 21
LINE_PX = 34
MARGIN_X = (PAPER_PX - COLUMNS * CELL_PX) // 2
MARGIN_Y = 28
PX_PER_DOT = CELL_PX / FONT_DOTS[0]
PAPER_EDGE = 200

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
)


@cache
def _font_file(bold: bool) -> Path | None:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for folder in _FONT_DIRS:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_file(bold) or _font_file(False)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    try:
        return ImageFont.load_default(size)
    except (TypeError, OSError):  # an old Pillow, or one built without FreeType
        return ImageFont.load_default()


def _draw_span(span: Span) -> Image.Image:
    """One span as black-on-white 'L' image, characters on a fixed grid (monospace)."""
    scale = span.height
    font_scale = 0.75 if span.font == 1 else 1.0
    cell = max(1, round(CELL_PX * font_scale)) * scale
    size = max(6, round(FONT_SIZE * font_scale * scale))
    height = GLYPH_PX * scale
    image = Image.new("L", (max(1, cell * len(span.text)), height), 255)
    draw = ImageDraw.Draw(image)
    font = _font(size, span.bold)
    fake_bold = span.bold and _font_file(True) is None
    for index, char in enumerate(span.text):
        if char == " ":
            continue
        draw.text(
            (index * cell + cell / 2, height * 0.78),
            char,
            fill=0,
            font=font,
            anchor="ms",
            stroke_width=1 if fake_bold else 0,
            stroke_fill=0,
        )
    if span.underline:
        y = height - max(1, scale)
        draw.rectangle((0, y, image.width, y + max(1, scale)), fill=0)
    if span.width != span.height:
        image = image.resize((max(1, cell * len(span.text) * span.width // scale), height))
    if span.invert:
        image = Image.eval(image, lambda v: 255 - v)
    return image


def _qr_image(symbol: QrSymbol) -> Image.Image:
    levels = {
        "L": qrcode.constants.ERROR_CORRECT_L,
        "M": qrcode.constants.ERROR_CORRECT_M,
        "Q": qrcode.constants.ERROR_CORRECT_Q,
        "H": qrcode.constants.ERROR_CORRECT_H,
    }
    code = qrcode.QRCode(
        error_correction=levels.get(symbol.ec, qrcode.constants.ERROR_CORRECT_L),
        box_size=max(1, round(symbol.module * PX_PER_DOT)),
        border=4,
    )
    try:
        code.add_data(symbol.data)
        code.make(fit=True)
        image = code.make_image(fill_color="black", back_color="white").get_image()
    except (ValueError, qrcode.exceptions.DataOverflowError):
        image = Image.new("L", (PAPER_PX // 2, 40), 255)
        ImageDraw.Draw(image).text(
            (4, 12), "QR data too long", fill=0, font=_font(FONT_SIZE, False)
        )
    image = image.convert("L")
    if image.width > PAPER_PX:
        image = image.resize((PAPER_PX, PAPER_PX))
    return image


def _dots_to_px(dots: int) -> int:
    """Vertical dots to pixels: the default 30-dot line spacing becomes one 34 px text row."""
    return round(dots * LINE_PX / LINE_DOTS)


def _x_for(width: int, align: Align) -> int:
    area = COLUMNS * CELL_PX
    if align == "center":
        return MARGIN_X + max(0, (area - width) // 2)
    if align == "right":
        return MARGIN_X + max(0, area - width)
    return MARGIN_X


def render_image(page: Page) -> Image.Image:
    """The page on paper: white, black print, 576 px wide."""
    rows: list[tuple[int, Image.Image | None, int]] = []  # (height, picture, x)
    for item in page.items:
        if isinstance(item, Feed):
            rows.append((_dots_to_px(item.dots), None, 0))
        elif isinstance(item, QrSymbol):
            symbol = _qr_image(item)
            rows.append((symbol.height, symbol, _x_for(symbol.width, item.align)))
        else:
            rows.append(_text_row(item))
    height = MARGIN_Y * 2 + sum(row[0] for row in rows)
    paper = Image.new("L", (PAPER_PX, max(height, 2 * MARGIN_Y)), 255)
    y = MARGIN_Y
    for row_height, picture, x in rows:
        if picture is not None:
            paper.paste(picture, (x, y))
        y += row_height
    # a faint edge, so white paper stands out on a white page
    ImageDraw.Draw(paper).rectangle((0, 0, paper.width - 1, paper.height - 1), outline=PAPER_EDGE)
    return paper


def _text_row(line: TextLine) -> tuple[int, Image.Image | None, int]:
    scale = line.height
    row_height = max(_dots_to_px(line.spacing), GLYPH_PX * scale + (LINE_PX - GLYPH_PX))
    if not line.spans:
        return (row_height, None, 0)
    pictures = [_draw_span(span) for span in line.spans]
    width = sum(p.width for p in pictures)
    row = Image.new("L", (max(1, width), row_height), 255)
    x = 0
    for picture in pictures:
        row.paste(picture, (x, row_height - picture.height - (LINE_PX - GLYPH_PX) // 2))
        x += picture.width
    return (row_height, row, _x_for(width, line.align))


def render_png(page: Page) -> bytes:
    buffer = io.BytesIO()
    render_image(page).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
