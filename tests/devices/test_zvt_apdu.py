"""ZVT APDUs, BMPs and TLV: encoding, decoding into typed fields, and never raising."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.zvt import apdu as A
from devices.zvt import bmp, codes
from devices.zvt.tlv import encode_tlv, parse_tlv


def test_length_is_one_byte_or_ff_and_two_bytes_low_first() -> None:
    assert A.Apdu(0x06, 0x0F).encode() == bytes([0x06, 0x0F, 0x00])
    short = A.Apdu(0x06, 0xD3, bytes(254)).encode()
    assert short[:3] == bytes([0x06, 0xD3, 0xFE]) and len(short) == 257
    long = A.Apdu(0x06, 0xD3, bytes(300)).encode()
    assert long[:5] == bytes([0x06, 0xD3, 0xFF, 0x2C, 0x01])
    assert A.decode(long) == A.Apdu(0x06, 0xD3, bytes(300))
    assert A.decode(long[:-1]) is None and A.decode(long + b"\x00") is None


def test_authorisation_carries_the_amount_as_six_bcd_bytes_in_cents() -> None:
    assert A.authorisation(4317).encode() == bytes.fromhex("0601 07 04 000000004317")
    with_cc = A.authorisation(1, currency=840).encode()
    assert with_cc == bytes.fromhex("0601 0a 04 000000000001 49 0840")
    assert A.from_ecr(A.authorisation(999_999_999_999)) == A.Authorisation(999_999_999_999, None)
    with pytest.raises(ValueError):
        A.authorisation(10**12)


def test_commands_with_password() -> None:
    assert A.registration("000000", 0xBE).encode() == bytes.fromhex("0600 04 000000 be")
    reg = A.registration("123456", 0xBE, currency=978, service_byte=0x01).encode()
    assert reg == bytes.fromhex("0600 08 123456 be 0978 03 01")
    assert A.reversal("000000", 42).encode() == bytes.fromhex("0630 06 000000 87 0042")
    assert A.end_of_day("000000").encode() == bytes.fromhex("0650 03 000000")
    assert A.repeat_receipt("000000").encode() == bytes.fromhex("0620 05 000000 03 01")
    assert A.status_enquiry("000000").encode() == bytes.fromhex("0501 03 000000")
    assert A.abort_request().encode() == bytes.fromhex("06b0 00")
    with pytest.raises(ValueError):
        A.registration("12345", 0xBE)
    assert A.from_ecr(A.reversal("000000", 42)) == A.Reversal("000000", 42)
    assert A.from_ecr(A.registration("000000", 0xBE, 978)) == A.Registration("000000", 0xBE, 978)


def test_acknowledgements() -> None:
    assert A.from_terminal(A.Apdu(0x80, 0x00)) == A.Ack(0)
    assert A.from_terminal(A.Apdu(0x84, 0x00)) == A.Ack(0)
    refused = A.from_terminal(A.Apdu(0x84, 0x83))
    assert refused == A.NegativeAck(0x83) and refused.reason == "function_not_possible"


def test_84_9c_is_a_refusal_not_an_acceptance() -> None:
    """84 xx answers a command with a result code instead of taking it; 9C ("please
    wait") included: the terminal has not started anything and promises no answer."""
    refused = A.from_terminal(A.decode(bytes.fromhex("84 9C 00")) or A.Apdu(0, 0))
    assert refused == A.NegativeAck(0x9C) and refused.reason == "please_wait"
    assert A.from_terminal(A.decode(bytes.fromhex("84 A0 00")) or A.Apdu(0, 0)) == A.NegativeAck(
        0xA0
    )


def test_repeat_receipt_asks_for_the_status_information() -> None:
    """PA00P015 13.08, 2.20.1: without service byte 01 a terminal repeats the printout
    only, and the 04 0F with the trace and receipt numbers never comes."""
    raw = bytes.fromhex("06 20 05 123456 03 01")
    assert A.repeat_receipt("123456").encode() == raw
    assert A.from_ecr(A.Apdu(0x06, 0x20, raw[3:])) == A.PasswordCommand(0x0620, "123456", 0x01)
    plain = A.from_ecr(A.Apdu(0x06, 0x20, bytes.fromhex("123456")))
    assert plain == A.PasswordCommand(0x0620, "123456", None)


def approved_status(pan: bytes) -> bytes:
    return (
        bmp.fixed(0x27, b"\x00")
        + bmp.fixed(0x04, bmp.to_bcd(4317, 6))
        + bmp.fixed(0x0B, bmp.to_bcd(123, 3))
        + bmp.fixed(0x0C, bytes.fromhex("101112"))
        + bmp.fixed(0x0D, bytes.fromhex("0512"))
        + bmp.fixed(0x0E, bytes.fromhex("2812"))
        + pan
        + bmp.llvar(0x23, bytes.fromhex("4111111111111111d2812"[:20]))
        + bmp.fixed(0x87, bmp.to_bcd(7, 2))
        + bmp.fixed(0x3B, b"654321\x00\x00")
        + bmp.fixed(0x8A, bytes([6]))
        + bmp.fixed(0x29, bytes.fromhex("52500001"))
    )


def test_status_information_is_typed_and_keeps_only_the_last_four_digits() -> None:
    info = bmp.status_information(approved_status(bmp.masked_pan("************0119")))
    assert info.result_code == 0 and info.amount_cents == 4317
    assert (info.trace, info.receipt, info.auth_code) == (123, 7, "654321")
    assert (info.time, info.date) == ("101112", "0512")
    assert info.pan_last4 == "0119" and info.brand == "Mastercard"
    assert info.terminal_id == "52500001" and info.complete
    assert "2812" not in repr(info)  # expiry date and track data were not kept


def test_an_unmasked_pan_is_cut_to_four_digits_while_parsing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = bmp.llvar(0x22, bytes.fromhex("4111111111111111"))
    info = bmp.status_information(approved_status(full))
    assert info.pan_last4 == "1111"
    assert "4111111111111111" not in repr(info) and "4111111111111111" not in caplog.text
    assert "unmasked" in caplog.text
    parsed = bmp.parse_bmps(full)
    assert parsed.values == {0x22: b"1111"}


def test_odd_length_pan_with_f_padding() -> None:
    pan = bmp.masked_pan("*" * 11 + "9876")  # 15 digits: padded with F
    assert bmp.parse_bmps(pan).get(0x22) == b"9876"


def test_the_emulator_side_refuses_to_encode_a_real_card_number() -> None:
    with pytest.raises(ValueError):
        bmp.masked_pan("4111111111111111")


def test_bmp_4c_is_skipped_and_the_receipt_number_after_it_is_read() -> None:
    """BMP 4C is an LLVAR: with it in the table the parse goes on to BMP 87."""
    data = bytes.fromhex("27 00  04 000000004317  0B 000123  4C F0 F3 0A0B0C  87 0042")
    parsed = bmp.parse_bmps(data)
    assert parsed.complete and parsed.get(0x4C) == bytes.fromhex("0a0b0c")
    info = bmp.status_information(data)
    assert (info.trace, info.receipt, info.complete) == (123, 42, True)


def test_a_long_trace_number_comes_in_tlv_1f2b_when_bmp_0b_is_zero() -> None:
    container = bytes.fromhex("06 07  1F2B 04 01234567")  # BMP 06, tag 1F2B, 4 bytes BCD
    data = bytes.fromhex("27 00  0B 000000  87 0042") + container
    info = bmp.status_information(data)
    assert (info.trace, info.receipt) == (1234567, 42)
    assert bmp.long_trace(1234567) == container
    with_short = bmp.status_information(bytes.fromhex("0B 000077") + container)
    assert with_short.trace == 77  # BMP 0B wins when it is set


def test_unknown_bmp_stops_parsing_and_says_where() -> None:
    data = bmp.fixed(0x27, b"\x00") + bytes([0x55, 0x01, 0x02]) + bmp.fixed(0x04, bytes(6))
    parsed = bmp.parse_bmps(data)
    assert parsed.stopped_at == 0x55 and parsed.get(0x27) == b"\x00" and parsed.get(0x04) is None
    assert not bmp.status_information(data).complete


def test_totals_per_card_group() -> None:
    totals = bmp.Totals(
        1,
        9,
        tuple(bmp.BrandTotal(name, i, i * 100) for i, name in enumerate(codes.TOTALS_GROUPS, 1)),
    )
    data = bmp.fixed(0x04, bmp.to_bcd(2800, 6)) + bmp.encode_totals(totals)
    info = bmp.status_information(data)
    assert info.totals == totals and info.amount_cents == 2800


def test_print_line_and_text_block() -> None:
    line = A.from_terminal(A.print_line("Betrag 43,17 EUR", last=True))
    assert line == A.PrintLine(A.PRINT_LAST_LINE, "Betrag 43,17 EUR") and line.last
    assert A.print_line("END", last=True).encode() == bytes.fromhex("06 D1 04 81") + b"END"
    block = A.from_terminal(A.print_text_block(["one", "two"]))
    assert block == A.PrintTextBlock(("one", "two"))


def decoded(hex_apdu: str) -> A.FromTerminal:
    apdu = A.decode(bytes.fromhex(hex_apdu))
    assert apdu is not None
    return A.from_terminal(apdu)


def test_print_line_attributes_as_the_specification_defines_them() -> None:
    """PA00P015, Print Line (06 D1): 1xxx xxxx but 80 is the last line, 80 is reserved,
    FF n is n line feeds; bytes as terminals in the field send them (a receipt ending
    ``06 D1 01 81``, lines ``40`` centred)."""
    last_empty = decoded("06 D1 01 81")
    assert last_empty == A.PrintLine(0x81, "") and last_empty.last
    assert last_empty.lines == ("",)
    centred = decoded("06 D1 05 40 41 42 43 44")
    assert centred == A.PrintLine(0x40, "ABCD") and not centred.last
    reserved = decoded("06 D1 03 80 41 42")
    assert isinstance(reserved, A.PrintLine) and not reserved.last
    feeds = decoded("06 D1 02 FF 03")
    assert isinstance(feeds, A.PrintLine) and not feeds.last
    assert feeds.lines == ("", "", "")  # three empty lines, not the text "\x03"
    assert A.line_feeds(3).encode() == bytes.fromhex("06 D1 02 FF 03")
    assert decoded("06 D1 02 8F 5A").last  # any other attribute with bit 7


def test_a_text_block_ending_with_its_attribute_tag() -> None:
    """06 D3: TLV 06 > 25 (print texts) > 07 text lines, closed by 09 01 81."""
    block = decoded("06 D3 0D 06 0B 25 09 07 02 48 49 07 00 09 01 81")
    assert block == A.PrintTextBlock(("HI", ""))
    assert A.print_text_block(["HI", ""]).encode() == bytes.fromhex(
        "06 D3 0D 06 0B 25 09 07 02 48 49 07 00 09 01 81"
    )


def test_a_card_number_in_receipt_text_is_masked() -> None:
    line = A.from_terminal(A.Apdu(0x06, 0xD1, b"\x00PAN 4111 1111 1111 1111"))
    assert line == A.PrintLine(0, "PAN **** **** **** 1111")  # masked, its layout kept
    assert bmp.scrub_card_numbers("TID 52500001 VU 123456789012345") == (
        "TID 52500001 VU 123456789012345"  # not a Luhn number: left alone
    )


def test_completion_forms() -> None:
    assert A.from_terminal(A.completion("52500001", 0)) == A.Completion("52500001", 0)
    status = A.from_terminal(A.status_completion("EMU 1.0", 0x00))
    assert status == A.Completion("", None, "EMU 1.0", 0)
    raw = bytes.fromhex("06 0F 0B F0 F0 F7") + b"EMU 1.0" + bytes([0x00])
    assert A.status_completion("EMU 1.0", 0x00).encode() == raw  # no BMP 29 in it
    assert A.from_terminal(A.terminal_abort(0x6C)) == A.TerminalAbort(0x6C)
    assert A.from_terminal(A.Apdu(0x06, 0x1E)) == A.TerminalAbort(0xFF)


def test_a_status_byte_without_a_software_version_is_the_terminal_status() -> None:
    """06 0F 01 DC: the terminal-status byte alone. DC is "card inserted", not ready."""
    alone = A.from_terminal(A.decode(bytes.fromhex("06 0F 01 DC")) or A.Apdu(0, 0))
    assert alone == A.Completion(terminal_status=0xDC)
    assert codes.result_reason(0xDC) == "card_inserted"
    ready = A.from_terminal(A.decode(bytes.fromhex("06 0F 01 00")) or A.Apdu(0, 0))
    assert ready == A.Completion(terminal_status=0x00)
    registration = A.from_terminal(A.decode(bytes.fromhex("06 0F 07 19 00 29 52500001")))
    assert registration == A.Completion("52500001", status_byte=0x00)  # BMPs, not a status


def test_an_intermediate_status_can_carry_its_own_time_out() -> None:
    assert A.from_terminal(A.Apdu(0x04, 0xFF, bytes.fromhex("0A"))) == A.IntermediateStatus(0x0A)
    with_byte = A.from_terminal(A.Apdu(0x04, 0xFF, bytes.fromhex("01 3C")))
    assert with_byte == A.IntermediateStatus(0x01, 60)
    tlv_only = A.from_terminal(A.Apdu(0x04, 0xFF, bytes.fromhex("0A 06 03 07 01 41")))
    assert tlv_only == A.IntermediateStatus(0x0A, None)
    both = A.from_terminal(A.Apdu(0x04, 0xFF, bytes.fromhex("0A 1E 06 03 07 01 41")))
    assert both == A.IntermediateStatus(0x0A, 30)
    assert A.intermediate_status(0x01, 60).encode() == bytes.fromhex("04 FF 02 01 3C")


def test_unknown_and_malformed_are_named_not_raised() -> None:
    assert A.from_terminal(A.Apdu(0x04, 0x77, b"\x01")) == A.Unknown(0x0477, 1)
    assert isinstance(A.from_terminal(A.Apdu(0x04, 0xFF)), A.Malformed)
    assert isinstance(A.from_ecr(A.Apdu(0x06, 0x01, b"\x04\x12")), A.Malformed)
    assert isinstance(A.from_ecr(A.Apdu(0x06, 0x30, b"\x00\x00")), A.Malformed)


def test_tlv_round_trip_with_constructed_and_two_byte_tags() -> None:
    inner = encode_tlv(0x07, b"line") + encode_tlv(0x1F07, b"\x01")
    items = parse_tlv(encode_tlv(0x25, inner) + encode_tlv(0x12, b"x" * 200))
    assert items is not None and [i.tag for i in items] == [0x25, 0x12]
    assert [c.tag for c in items[0].children] == [0x07, 0x1F07]
    assert items[1].value == b"x" * 200
    assert parse_tlv(b"\x07\x05ab") is None


def test_result_codes_and_prompts() -> None:
    assert codes.result_reason(0x05) == "declined_by_issuer"
    assert codes.result_reason(0x33) == "insufficient_funds"  # ISO 8583 "51"
    assert codes.result_reason(0x78) == "card_expired"
    assert codes.result_reason(0x6C) == "aborted"
    assert codes.result_reason(0xEE) == "result_0xee"
    assert codes.outcome_for(0x00) is codes.Outcome.APPROVED
    assert codes.outcome_for(0x6C) is codes.Outcome.CANCELLED
    assert codes.outcome_for(0x05) is codes.Outcome.DECLINED
    assert codes.progress_message(0x0A) == "insert_card"
    assert codes.progress_message(0x01) == "enter_pin"
    assert codes.progress_message(0x04) == "processing"
    assert codes.progress_message(0x0B) == "remove_card"
    assert codes.progress_message(0x4A) == "remove_card"
    assert codes.progress_message(0x99) == "wait"


# --- never raise ----------------------------------------------------------------------------


@given(st.binary(max_size=400))
def test_decoders_never_raise(data: bytes) -> None:
    A.decode(data)
    bmp.parse_bmps(data)
    bmp.status_information(data)
    bmp.text_block_lines(data)
    parse_tlv(data)
    for cls, instr in ((0x04, 0x0F), (0x04, 0xFF), (0x06, 0x0F), (0x06, 0xD1), (0x06, 0xD3)):
        A.from_terminal(A.Apdu(cls, instr, data))
    for cls, instr in ((0x06, 0x00), (0x06, 0x01), (0x06, 0x30), (0x06, 0x50), (0x05, 0x01)):
        A.from_ecr(A.Apdu(cls, instr, data))


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_amounts_round_trip(cents: int) -> None:
    assert A.from_ecr(A.authorisation(cents)) == A.Authorisation(cents, None)


def test_spanish_names_in_the_terminals_print_lines() -> None:
    """ZVT text is code page 437 by default: ñ is A4, Ñ A5, á A0, í A1, ó A2, ú A3."""
    raw = bytes.fromhex("06 D1 12 00") + b"Se\xa4ora Pe\xa4a MU\xa5OZ"
    line = A.from_terminal(A.decode(raw) or A.Apdu(0, 0))
    assert line == A.PrintLine(0, "Señora Peña MUÑOZ")
    assert A.print_line("Núñez Ibáñez").encode()[4:] == b"N\xa3\xa4ez Ib\xa0\xa4ez"
