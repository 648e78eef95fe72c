"""Bytes to text the way a careful browser would: HTTP header, then `<meta charset>`, then guess.

Servers lie about encodings in two common ways: a `utf-8` header over a windows-1252
body (old CMS templates) and a legacy label (`latin-1`, `gb2312`) over a UTF-8 body. Both
would store mojibake forever, so a declared encoding that the bytes contradict is
overridden by what the bytes are. Detection alone is weak on short Western pages
(charset_normalizer calls a windows-1252 page with curly quotes windows-1250), so its
guess must beat windows-1252 on how plausible the decoded characters are.
"""

from __future__ import annotations

import codecs
import functools
import unicodedata

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

__all__ = ["decode_html"]

# Browsers decode these labels as windows-1252 (WHATWG encoding standard).
_AS_WINDOWS_1252 = {"ascii", "latin_1", "iso8859-1", "iso-8859-1", "us-ascii", "cp819"}
# Non-ASCII punctuation that real text uses, so it counts for a decoding, not against it.
_TYPOGRAPHY = set(
    "\u201c\u201d\u2018\u2019\u201a\u201e\u2013\u2014\u2026\u20ac\u2022\u00b7\u00a0\u00a9\u00ae\u2122\u00b0\u00a7"
)
_DETECT_SAMPLE = 64 * 1024
# Python codecs that are not character sets a page can be written in: they fail on any
# input (`undefined`, `idna` with replacement), or turn escapes in the markup into lone
# surrogates that no parser or database accepts (`unicode_escape`, `utf-7`). A label
# naming one is ignored, as browsers ignore labels outside the WHATWG Encoding Standard.
_NOT_PAGE_ENCODINGS = frozenset(
    {"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"}
)
# What a `<meta charset>` is found in: markup read as ASCII (all printable characters but
# `~`, which HZ uses as its shift code, and still reads as ASCII markup).
_MARKUP = b"\t\n\r" + bytes(range(0x20, 0x7E))


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding name) for an HTML body; never raises on bad bytes."""
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom:
        return body[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding
    encoding = _normalized(http_content_type_encoding(content_type))
    if encoding is None:
        encoding = _normalized(html_body_declared_encoding(body))
        if encoding is not None and not _ascii_compatible(encoding):
            # The label was read from bytes taken as ASCII, so an encoding in which they
            # mean something else (UTF-16, EBCDIC) contradicts its own declaration; the
            # HTML standard likewise reads `<meta charset=utf-16>` as UTF-8.
            encoding = None
    if encoding is not None:
        return _decode_declared(body, encoding)
    return _decode_undeclared(body)


def _normalized(label: str | None) -> str | None:
    """A Python codec name for a declared label, windows-1252 for its Latin-1 aliases;
    None for no label and for labels that name no usable page encoding."""
    if not label:
        return None
    resolved = resolve_encoding(label)
    if resolved is None:
        return None
    info = codecs.lookup(resolved)
    if not info._is_text_encoding or info.name in _NOT_PAGE_ENCODINGS:
        return None  # bytes-to-bytes codecs (base64, zlib) and the ones above
    name = info.name
    return "cp1252" if name in _AS_WINDOWS_1252 or resolved in _AS_WINDOWS_1252 else name


@functools.lru_cache(maxsize=256)
def _ascii_compatible(encoding: str) -> bool:
    """True when ASCII markup decodes to itself, as it does in every web encoding but
    UTF-16 and UTF-32."""
    try:
        return _MARKUP.decode(encoding, errors="replace") == _MARKUP.decode("ascii")
    except (LookupError, UnicodeError):
        return False


def _decode_declared(body: bytes, encoding: str) -> tuple[str, str]:
    if encoding == "utf-8":
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            # A UTF-8 label over other bytes: trust the bytes.
            return _decode_undeclared(body)
    if _has_high_bytes(body):
        # Non-ASCII bytes that form valid UTF-8 are UTF-8 whatever the label says: the
        # chance of a real GBK or windows-1252 page being valid UTF-8 is negligible, and
        # templates that declare gb2312 or latin-1 over UTF-8 content are common.
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    try:
        return body.decode(encoding, errors="replace"), encoding
    except LookupError:
        return _decode_undeclared(body)


def _decode_undeclared(body: bytes) -> tuple[str, str]:
    if not _has_high_bytes(body):
        return body.decode("ascii", errors="replace"), "ascii"
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = ["cp1252"]
    guess = _detect(body)
    if guess and guess not in candidates:
        candidates.append(guess)
    best = max(candidates, key=lambda enc: (_plausibility(body, enc), enc == "cp1252"))
    return body.decode(best, errors="replace"), best


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    match = from_bytes(body[:_DETECT_SAMPLE]).best()
    if match is None:
        return None
    try:
        return codecs.lookup(match.encoding).name
    except LookupError:
        return None


def _plausibility(body: bytes, encoding: str) -> int:
    """Letters and real punctuation minus symbols and controls, over the non-ASCII text."""
    try:
        text = body[:_DETECT_SAMPLE].decode(encoding, errors="replace")
    except LookupError:
        return -(10**9)
    score = 0
    for char in text:
        if char < "\x80":
            continue
        if char in _TYPOGRAPHY or unicodedata.category(char).startswith("L"):
            score += 1
        elif char not in "\u00ab\u00bb":
            score -= 2
    return score


def _has_high_bytes(body: bytes) -> bool:
    return not body.isascii()
