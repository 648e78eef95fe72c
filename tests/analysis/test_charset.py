"""Decoding: HTTP header, then <meta charset>, then detection; lying labels are overridden."""

from __future__ import annotations

import pytest

from crawler.analysis.charset import decode_html

TEXT = (
    "\u201cIt\u2019s the caf\u00e9\u2019s best year,\u201d said the owner \u2014 "
    "prices rose 5\u20ac and the na\u00efve r\u00e9sum\u00e9 was \u2018perfect\u2019."
)
PAGE = "<html><head><title>T</title></head><body><p>{}</p></body></html>"


def page(encoding: str, meta: str = "") -> bytes:
    return PAGE.replace("<title>", meta + "<title>").format(TEXT).encode(encoding)


def test_windows_1252_with_curly_quotes_and_no_declaration() -> None:
    text, encoding = decode_html(page("cp1252"))
    assert encoding == "cp1252"
    assert TEXT in text


def test_http_header_wins_over_meta() -> None:
    body = page("cp1252", '<meta charset="utf-8">')
    # The meta lies (the bytes are not UTF-8), the header is right.
    text, encoding = decode_html(body, "text/html; charset=windows-1252")
    assert TEXT in text and encoding == "cp1252"


def test_meta_charset_when_no_header() -> None:
    words = "Gr\u00fc\u00dfe aus K\u00f6ln, 5\u20ac f\u00fcr \u0152uvres"
    body = PAGE.replace("<title>", '<meta charset="iso-8859-15"><title>').format(words)
    text, encoding = decode_html(body.encode("iso-8859-15"), "text/html")
    assert words in text and encoding == "iso8859-15"


def test_latin1_label_decodes_as_windows_1252() -> None:
    text, _ = decode_html(page("cp1252"), "text/html; charset=ISO-8859-1")
    assert "\u201cIt\u2019s" in text  # bytes 0x93/0x92 are quotes, not C1 controls


def test_utf8_header_over_windows_1252_bytes() -> None:
    text, encoding = decode_html(page("cp1252"), "text/html; charset=utf-8")
    assert TEXT in text and encoding == "cp1252"
    assert "\ufffd" not in text


def test_latin1_header_over_utf8_bytes() -> None:
    text, encoding = decode_html(page("utf-8"), "text/html; charset=iso-8859-1")
    assert TEXT in text and encoding == "utf-8"


def test_legacy_label_over_utf8_bytes() -> None:
    chinese = "\u8c37\u6b4c\u5728\u0032\u0030\u0031\u0034\u5e74\u6536\u8d2d\u7684\u516c\u53f8"
    body = PAGE.replace("<title>", '<meta charset="gb2312"><title>').format(chinese)
    text, encoding = decode_html(body.encode("utf-8"), "text/html")
    assert chinese in text and encoding == "utf-8"
    # a genuine GBK page with the same label still decodes as GBK
    text, encoding = decode_html(body.encode("gbk"), "text/html")
    assert chinese in text and encoding == "gb18030"


def test_byte_order_mark() -> None:
    text, encoding = decode_html(b"\xef\xbb\xbf" + page("utf-8"), "text/html; charset=cp1252")
    assert TEXT in text and encoding == "utf-8"


def test_central_european_page_is_not_forced_into_windows_1252() -> None:
    czech = (
        "P\u0159\u00edli\u0161 \u017elu\u0165ou\u010dk\u00fd k\u016f\u0148 \u00fap\u011bl "
        "\u010f\u00e1belsk\u00e9 \u00f3dy. "
    ) * 20
    text, encoding = decode_html(PAGE.format(czech).encode("cp1250"))
    assert czech in text, encoding


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02", b"\xff" * 100, b"<p>plain ascii</p>"])
def test_never_raises(body: bytes) -> None:
    text, encoding = decode_html(body, "text/html; charset=x-unknown-label")
    assert isinstance(text, str) and encoding
