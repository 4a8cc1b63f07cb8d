"""ZVT APDUs: the control field, the length, the data block; the commands and the answers.

Every message is ``CLASS INSTR LEN DATA``: a two-byte control field (a command such as
``06 01`` Authorisation, or ``CCRC APRC`` for an answer, ``80 00`` positive, ``84 xx``
negative), one length byte, and the data block. A data block of 255 bytes or more is
announced as ``FF`` followed by the length in two bytes, low byte first.

:func:`decode` turns bytes into an :class:`Apdu` (or None). :func:`from_terminal` and
:func:`from_ecr` turn an APDU into a typed message for the side that receives it; neither
raises, and what they do not understand comes back as :class:`Unknown` or
:class:`Malformed`, which the receiver answers with ``84 83`` (function not possible) or
``84 9A`` (protocol error). Builders for both directions live here too, so the driver and
the emulator speak from the same table.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.zvt import bmp, codes
from devices.zvt.bmp import StatusInformation
from devices.zvt.tlv import encode_tlv, read_length

# control fields
REGISTRATION = 0x0600
AUTHORISATION = 0x0601
LOG_OFF = 0x0602
COMPLETION = 0x060F
TERMINAL_ABORT = 0x061E
REPEAT_RECEIPT = 0x0620
REVERSAL = 0x0630
END_OF_DAY = 0x0650
ECR_ABORT = 0x06B0
PRINT_LINE = 0x06D1
PRINT_TEXT_BLOCK = 0x06D3
STATUS_ENQUIRY = 0x0501
STATUS_INFORMATION = 0x040F
INTERMEDIATE_STATUS = 0x04FF

NAMES: dict[int, str] = {
    REGISTRATION: "registration",
    AUTHORISATION: "authorisation",
    LOG_OFF: "log-off",
    COMPLETION: "completion",
    TERMINAL_ABORT: "abort",
    REPEAT_RECEIPT: "repeat-receipt",
    REVERSAL: "reversal",
    END_OF_DAY: "end-of-day",
    ECR_ABORT: "abort-request",
    PRINT_LINE: "print-line",
    PRINT_TEXT_BLOCK: "print-text-block",
    STATUS_ENQUIRY: "status-enquiry",
    STATUS_INFORMATION: "status-information",
    INTERMEDIATE_STATUS: "intermediate-status",
}

CONFIG_ECR_PRINTS_PAYMENT = 0x02
CONFIG_ECR_PRINTS_ADMIN = 0x04
CONFIG_INTERMEDIATE_STATUS = 0x08
CONFIG_ECR_CONTROLS_PAYMENT = 0x10
CONFIG_ECR_CONTROLS_ADMIN = 0x20
CONFIG_PRINT_LINES = 0x80
DEFAULT_CONFIG = (
    CONFIG_ECR_PRINTS_PAYMENT
    | CONFIG_ECR_PRINTS_ADMIN
    | CONFIG_INTERMEDIATE_STATUS
    | CONFIG_ECR_CONTROLS_PAYMENT
    | CONFIG_ECR_CONTROLS_ADMIN
    | CONFIG_PRINT_LINES
)
"""0xBE: receipts come to the kiosk as print lines, with intermediate status, and the
terminal's own keys can start neither a payment nor an administration function."""

PRINT_LAST_LINE = 0x81
"""The attribute the emulator gives a receipt's last print line (06 D1). The attribute byte
(PA00P015, Print Line 06 D1, "attribute definition"): ``1xxx xxxx`` other than ``80``
marks the last line, ``80`` alone is reserved (RFU), ``FF`` is not text but line feeds,
their count in the next byte; ``01xx nnnn`` centred, ``0x1x nnnn`` double width,
``0xx1 nnnn`` double height, ``0000 nnnn`` normal. Terminals in the field end a receipt
with ``81`` (``06 D1 01 81``, and ``09 01 81`` closing a text block's lines)."""
PRINT_ATTRIBUTE_RESERVED = 0x80
PRINT_LINE_FEED = 0xFF
"""``FF n``: the printer feeds ``n`` empty lines; no text follows."""
TEXT_BLOCK_ATTRIBUTE = 0x09
"""TLV tag of a text block's attribute (``81``: the block's last line has been sent)."""

REPEAT_RECEIPT_SEND_STATUS = 0x01
"""Repeat Receipt's service byte (BMP 03), bit 0: send the Status-Information (04 0F) too.
Without it a terminal repeats only the printout (PA00P015 13.08, 2.20.1), and the driver
needs the 04 0F: its trace and receipt numbers are what settle or reverse a lost sale."""


@dataclass(frozen=True, slots=True)
class Apdu:
    cls: int
    instr: int
    data: bytes = b""

    @property
    def control(self) -> int:
        return (self.cls << 8) | self.instr

    @property
    def name(self) -> str:
        if self.cls in (0x80, 0x84):
            return f"ack {self.cls:02X} {self.instr:02X}"
        return NAMES.get(self.control, f"{self.cls:02X} {self.instr:02X}")

    def encode(self) -> bytes:
        size = len(self.data)
        if size > 0xFFFF:
            raise ValueError(f"a ZVT data block holds at most 65535 bytes, not {size}")
        extended = bytes([0xFF]) + size.to_bytes(2, "little")
        length = bytes([size]) if size < 0xFF else extended
        return bytes([self.cls, self.instr]) + length + self.data

    def describe(self) -> str:
        """Safe for logs: the command and the size, never the data (it may hold card data)."""
        return f"{self.name} ({len(self.data)} bytes)"


def header_length(raw: bytes | bytearray) -> int | None:
    """Total bytes of the APDU starting ``raw`` once its header is there, else None."""
    if len(raw) < 3:
        return None
    if raw[2] != 0xFF:
        return 3 + raw[2]
    if len(raw) < 5:
        return None
    return 5 + int.from_bytes(raw[3:5], "little")


def decode(raw: bytes) -> Apdu | None:
    """The APDU in ``raw`` if its length field matches exactly, else None (never raises)."""
    total = header_length(raw)
    if total is None or total != len(raw):
        return None
    start = 5 if raw[2] == 0xFF else 3
    return Apdu(raw[0], raw[1], bytes(raw[start:]))


# ============================================================================ ECR -> PT


def ack() -> Apdu:
    return Apdu(0x80, 0x00)


def nack(code: int) -> Apdu:
    return Apdu(0x84, code & 0xFF)


def registration(
    password: str, config_byte: int, currency: int | None = None, service_byte: int | None = None
) -> Apdu:
    """06 00: password, config byte, and (optionally) currency and service byte."""
    data = bmp.password_bcd(password) + bytes([config_byte & 0xFF])
    if currency is not None:
        data += bmp.to_bcd(currency, 2)
        if service_byte is not None:
            data += bytes([0x03, service_byte & 0xFF])
    return Apdu(0x06, 0x00, data)


def authorisation(amount_cents: int, currency: int | None = None) -> Apdu:
    """06 01: the amount as 6 bytes BCD in minor units (BMP 04), currency (49) if given."""
    data = bmp.fixed(0x04, bmp.to_bcd(amount_cents, 6))
    if currency is not None:
        data += bmp.fixed(0x49, bmp.to_bcd(currency, 2))
    return Apdu(0x06, 0x01, data)


def reversal(password: str, receipt: int) -> Apdu:
    """06 30: password and the receipt number (BMP 87) of the sale to reverse."""
    return Apdu(0x06, 0x30, bmp.password_bcd(password) + bmp.fixed(0x87, bmp.to_bcd(receipt, 2)))


def end_of_day(password: str) -> Apdu:
    return Apdu(0x06, 0x50, bmp.password_bcd(password))


def repeat_receipt(password: str, service_byte: int | None = REPEAT_RECEIPT_SEND_STATUS) -> Apdu:
    """06 20: password and service byte ``03 01`` (send the Status-Information as well)."""
    data = bmp.password_bcd(password)
    if service_byte is not None:
        data += bmp.fixed(0x03, bytes([service_byte & 0xFF]))
    return Apdu(0x06, 0x20, data)


def status_enquiry(password: str) -> Apdu:
    return Apdu(0x05, 0x01, bmp.password_bcd(password))


def abort_request() -> Apdu:
    return Apdu(0x06, 0xB0)


def log_off() -> Apdu:
    return Apdu(0x06, 0x02)


# ============================================================================ PT -> ECR


def intermediate_status(code: int, timeout: int | None = None) -> Apdu:
    """04 FF: the status code and, optionally, its own time-out in seconds (one byte)."""
    data = bytes([code & 0xFF])
    if timeout is not None:
        data += bytes([timeout & 0xFF])
    return Apdu(0x04, 0xFF, data)


def print_line(text: str, last: bool = False) -> Apdu:
    attribute = PRINT_LAST_LINE if last else 0x00
    return Apdu(0x06, 0xD1, bytes([attribute]) + bmp.text(text))


def line_feeds(count: int) -> Apdu:
    """06 D1 with attribute FF: ``count`` empty lines."""
    return Apdu(0x06, 0xD1, bytes([PRINT_LINE_FEED, count & 0xFF]))


def print_text_block(lines: list[str]) -> Apdu:
    text_lines = b"".join(encode_tlv(0x07, bmp.text(line)) for line in lines)
    end = encode_tlv(TEXT_BLOCK_ATTRIBUTE, bytes([PRINT_LAST_LINE]))
    return Apdu(0x06, 0xD3, bmp.tlv_container(encode_tlv(0x25, text_lines + end)))


def completion(terminal_id: str = "", status_byte: int | None = None) -> Apdu:
    data = b""
    if status_byte is not None:
        data += bmp.fixed(0x19, bytes([status_byte]))
    if terminal_id:
        data += bmp.fixed(0x29, bytes.fromhex(terminal_id))
    return Apdu(0x06, 0x0F, data)


def status_completion(sw_version: str, terminal_status: int) -> Apdu:
    """06 0F answering a Status-Enquiry: software version (LLLVAR) and terminal-status byte.

    That completion has no terminal id (BMP 29 belongs to the Registration's completion);
    a terminal may leave the version out and send the status byte alone.
    """
    data = b""
    if sw_version:
        version = bmp.text(sw_version)
        data = bmp.var_prefix(len(version), 3) + version
    return Apdu(0x06, 0x0F, data + bytes([terminal_status & 0xFF]))


def terminal_abort(result_code: int) -> Apdu:
    return Apdu(0x06, 0x1E, bytes([result_code & 0xFF]))


def status_information_apdu(fields: bytes) -> Apdu:
    return Apdu(0x04, 0x0F, fields)


# ============================================================================ typed messages


@dataclass(frozen=True, slots=True)
class Ack:
    """80 00 (or 84 00): the message was taken."""

    code: int = 0


@dataclass(frozen=True, slots=True)
class NegativeAck:
    """84 xx: the message was refused; ``code`` is a result code (84 83: not possible)."""

    code: int

    @property
    def reason(self) -> str:
        return codes.result_reason(self.code)


@dataclass(frozen=True, slots=True)
class Unknown:
    """A well-formed APDU this side does not handle (answered 84 83)."""

    control: int
    length: int


@dataclass(frozen=True, slots=True)
class Malformed:
    """An APDU whose content does not parse (answered 84 9A, protocol error)."""

    control: int
    reason: str


# ----------------------------------------------------------------------------- from the PT


@dataclass(frozen=True, slots=True)
class IntermediateStatus:
    code: int
    timeout: int | None = None
    """The status's own time-out in seconds, when the terminal sends one: until then the
    ECR waits for the next message instead of its default T4."""

    @property
    def message(self) -> str:
        return codes.progress_message(self.code)


@dataclass(frozen=True, slots=True)
class StatusInfo:
    info: StatusInformation


@dataclass(frozen=True, slots=True)
class PrintLine:
    attribute: int
    text: str
    feeds: int = 0
    """With attribute ``FF``: how many empty lines the printer feeds (the text is empty)."""

    @property
    def last(self) -> bool:
        """Bit 7 set marks the last line, except ``80`` (reserved) and ``FF`` (line feed)."""
        return bool(self.attribute & 0x80) and self.attribute not in (
            PRINT_ATTRIBUTE_RESERVED,
            PRINT_LINE_FEED,
        )

    @property
    def lines(self) -> tuple[str, ...]:
        """What the receipt gets from it: the text, or ``feeds`` empty lines."""
        if self.attribute == PRINT_LINE_FEED:
            return ("",) * self.feeds
        return (self.text,)


@dataclass(frozen=True, slots=True)
class PrintTextBlock:
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Completion:
    """06 0F: the terminal is done and the ECR is master again."""

    terminal_id: str = ""
    status_byte: int | None = None
    sw_version: str = ""
    terminal_status: int | None = None


@dataclass(frozen=True, slots=True)
class TerminalAbort:
    """06 1E: the terminal ended the command without success; ``result_code`` says why."""

    result_code: int

    @property
    def reason(self) -> str:
        return codes.result_reason(self.result_code)


FromTerminal = (
    Ack
    | NegativeAck
    | IntermediateStatus
    | StatusInfo
    | PrintLine
    | PrintTextBlock
    | Completion
    | TerminalAbort
    | Unknown
    | Malformed
)


def _status_timeout(data: bytes) -> int | None:
    """The time-out byte after a 04 FF's status code, if there is one (0: none given).

    The byte is optional and a TLV container (06) may follow instead: a ``06`` whose BER
    length covers exactly the rest is that container, not a six-second time-out.
    """
    if len(data) < 2:
        return None
    if data[1] == 0x06 and len(data) > 2:
        at = read_length(data, 2)
        if at is not None and at[1] + at[0] == len(data):
            return None
    return data[1] or None


def _answer(apdu: Apdu) -> Ack | NegativeAck | None:
    """80 00 accepts; 84 xx refuses with result code xx (84 9C too: "please wait" is a
    reason not to start, not a promise to answer). 84 00 names no error and is read as 80 00."""
    if apdu.cls == 0x80:
        return Ack(0)
    if apdu.cls == 0x84:
        return Ack(0) if apdu.instr == 0x00 else NegativeAck(apdu.instr)
    return None


def from_terminal(apdu: Apdu) -> FromTerminal:
    """What a message from the terminal means to the ECR. Never raises."""
    answer = _answer(apdu)
    if answer is not None:
        return answer
    control, data = apdu.control, apdu.data
    if control == INTERMEDIATE_STATUS:
        if not data:
            return Malformed(control, "no status code")
        return IntermediateStatus(data[0], _status_timeout(data))
    if control == STATUS_INFORMATION:
        return StatusInfo(bmp.status_information(data))
    if control == PRINT_LINE:
        if not data:
            return Malformed(control, "no attribute byte")
        if data[0] == PRINT_LINE_FEED:
            return PrintLine(PRINT_LINE_FEED, "", data[1] if len(data) > 1 else 1)
        return PrintLine(data[0], bmp.scrub_card_numbers(data[1:].decode(bmp.TEXT_ENCODING)))
    if control == PRINT_TEXT_BLOCK:
        return PrintTextBlock(tuple(bmp.scrub_card_numbers(x) for x in bmp.text_block_lines(data)))
    if control == COMPLETION:
        return _completion(data)
    if control == TERMINAL_ABORT:
        return TerminalAbort(data[0] if data else 0xFF)
    return Unknown(control, len(data))


COMPLETION_BMPS = frozenset({0x06, 0x19, 0x29, 0x49})
"""The BMPs a Completion can open with (TLV, status byte, terminal id, currency)."""


def _completion(data: bytes) -> Completion | Malformed:
    """06 0F. A Status-Enquiry's completion opens with the software version (LLLVAR) and
    the terminal-status byte; some terminals send the status byte without the version. A
    first byte that is neither a length nor a completion's BMP is that status (DC: a card
    is inserted), never a sign that the terminal is ready."""
    sw_version, status, start = "", None, 0
    if data and 0xF0 <= data[0] <= 0xF9:
        var = bmp.read_var_length(data, 0, 3)
        if var is None or var[1] + var[0] >= len(data):
            return Malformed(COMPLETION, "bad software version")
        length, pos = var
        sw_version = data[pos : pos + length].decode(bmp.TEXT_ENCODING).strip()
        status = data[pos + length]
        start = pos + length + 1
    elif data and (data[0] not in COMPLETION_BMPS or len(data) == 1):
        status, start = data[0], 1
    fields = bmp.parse_bmps(data, start)
    tid = fields.get(0x29)
    status_byte = fields.get(0x19)
    return Completion(
        terminal_id=tid.hex() if tid else "",
        status_byte=status_byte[0] if status_byte else None,
        sw_version=sw_version,
        terminal_status=status,
    )


# ----------------------------------------------------------------------------- from the ECR


@dataclass(frozen=True, slots=True)
class Registration:
    password: str
    config_byte: int
    currency: int | None


@dataclass(frozen=True, slots=True)
class Authorisation:
    amount_cents: int
    currency: int | None


@dataclass(frozen=True, slots=True)
class Reversal:
    password: str
    receipt: int


@dataclass(frozen=True, slots=True)
class PasswordCommand:
    """End-of-Day (06 50), Repeat Receipt (06 20), Status Enquiry (05 01)."""

    control: int
    password: str
    service_byte: int | None = None
    """BMP 03 after the password, if sent (Repeat Receipt: 01 asks for the 04 0F)."""


@dataclass(frozen=True, slots=True)
class AbortRequest:
    """06 B0 from the ECR: stop the running command if it can still be stopped."""


@dataclass(frozen=True, slots=True)
class LogOff:
    pass


FromEcr = (
    Ack
    | NegativeAck
    | Registration
    | Authorisation
    | Reversal
    | PasswordCommand
    | AbortRequest
    | LogOff
    | Unknown
    | Malformed
)


def _password(data: bytes) -> str | None:
    return data[:3].hex() if len(data) >= 3 and data[:3].hex().isdigit() else None


def from_ecr(apdu: Apdu) -> FromEcr:
    """What a message from the ECR means to the terminal. Never raises."""
    answer = _answer(apdu)
    if answer is not None:
        return answer
    control, data = apdu.control, apdu.data
    if control == REGISTRATION:
        password = _password(data)
        if password is None or len(data) < 4:
            return Malformed(control, "password and config byte required")
        currency = bmp.from_bcd(data[4:6]) if len(data) >= 6 else None
        return Registration(password, data[3], currency)
    if control == AUTHORISATION:
        fields = bmp.parse_bmps(data)
        amount = fields.get(0x04)
        cents = bmp.from_bcd(amount) if amount else None
        if cents is None or not fields.complete:
            return Malformed(control, "no readable amount")
        cc = fields.get(0x49)
        return Authorisation(cents, bmp.from_bcd(cc) if cc else None)
    if control == REVERSAL:
        password = _password(data)
        fields = bmp.parse_bmps(data, 3)
        receipt = fields.get(0x87)
        number = bmp.from_bcd(receipt) if receipt else None
        if password is None or number is None:
            return Malformed(control, "password and receipt number required")
        return Reversal(password, number)
    if control in (END_OF_DAY, REPEAT_RECEIPT, STATUS_ENQUIRY):
        password = _password(data)
        if password is None:
            return Malformed(control, "password required")
        service = bmp.parse_bmps(data, 3).get(0x03)
        return PasswordCommand(control, password, service[0] if service else None)
    if control == ECR_ABORT:
        return AbortRequest()
    if control == LOG_OFF:
        return LogOff()
    return Unknown(control, len(data))
