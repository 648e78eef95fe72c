"""URL identity rules: every spelling of one story's URL is one canonical URL."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import example, given, strategies as st

from storage.urls import (
    InvalidURLError,
    canonicalize_url,
    registrable_domain,
    same_site,
    story_key,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://WWW.Example.COM/News/Story", "https://www.example.com/News/Story"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        (
            "https://example.com/a?utm_source=tw&utm_medium=social&id=3",
            "https://example.com/a?id=3",
        ),
        ("https://example.com/a?fbclid=XYZ&gclid=1&mc_cid=2&mc_eid=3", "https://example.com/a"),
        ("https://example.com/a?ref=home", "https://example.com/a"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?UTM_Campaign=x", "https://example.com/a"),
        ("https://example.com/%7Euser/a%20b", "https://example.com/~user/a%20b"),
        ("https://example.com/a?q=a+b", "https://example.com/a?q=a+b"),
        ("https://exämple.com/a", "https://xn--exmple-cua.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://[::1]:8080/a", "https://[::1]:8080/a"),
    ],
)
def test_canonicalize(raw: str, expected: str) -> None:
    assert canonicalize_url(raw) == expected


def test_blank_values_and_meaningful_parameters_are_kept() -> None:
    assert canonicalize_url("https://e.com/s?page=2&q=") == "https://e.com/s?page=2&q="


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a url",
        "ftp://example.com/a",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https:///nohost",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/a\nb",
    ],
)
def test_invalid_urls_are_rejected(bad: str) -> None:
    with pytest.raises(InvalidURLError):
        canonicalize_url(bad)


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("news.bbc.co.uk", "bbc.co.uk"),
        ("edition.cnn.com", "cnn.com"),
        ("example.com", "example.com"),
        ("127.0.0.1", "127.0.0.1"),
        # from the public suffix list, not a rule of thumb
        ("www.city.kawasaki.jp", "city.kawasaki.jp"),
        ("a.b.example.com.au", "example.com.au"),
        ("news.example.gouv.fr", "example.gouv.fr"),
        ("alice.github.io", "alice.github.io"),
        ("x.y.s3.amazonaws.com", "y.s3.amazonaws.com"),
        # suffixes the list does not know: its default rule, the last two labels
        ("news.harbor-times.example", "harbor-times.example"),
        ("intranet.local", "intranet.local"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_same_site() -> None:
    assert same_site("https://amp.theguardian.com/x", "https://www.theguardian.com/x")
    assert same_site("https://m.example.com/x", "https://example.com/y")
    assert not same_site("https://example.com/x", "https://other.com/x")
    assert not same_site("http://127.0.0.1:8000/a", "http://127.0.0.2/a")


def test_story_key_folds_amp_and_print_variants_with_same_site_canonical() -> None:
    canonical = "https://www.example.com/2026/11/story.html"
    assert story_key("https://amp.example.com/2026/11/story.html", canonical) == canonical
    assert story_key("https://www.example.com/print/story?id=1", canonical) == canonical
    assert story_key("https://www.example.com/2026/11/story.html/amp", canonical) == canonical


def test_story_key_ignores_foreign_or_broken_canonical() -> None:
    page = "https://www.example.com/2026/11/story.html"
    assert story_key(page, "https://aggregator.example.org/copied") == page
    assert story_key(page, "javascript:void(0)") == page
    assert story_key(page, None) == page


_ascii_path = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#"),
    max_size=30,
)


@given(
    host=st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|org|co\.uk)", fullmatch=True),
    path=_ascii_path,
    params=st.lists(st.tuples(st.sampled_from(["id", "p", "utm_x", "q"]), st.text(max_size=5))),
)
def test_canonicalization_is_idempotent(
    host: str, path: str, params: list[tuple[str, str]]
) -> None:
    url = f"https://{host}/{path.lstrip('/')}?{urlencode(params)}"
    try:
        once = canonicalize_url(url)
    except InvalidURLError:
        return
    assert canonicalize_url(once) == once
    kept = [key for key, _ in parse_qsl(urlsplit(once).query, keep_blank_values=True)]
    assert not any(key.startswith("utm_") for key in kept)
    assert kept == sorted(kept)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://fr.example/%E9t%E9", "https://fr.example/%E0t%E0"),  # Latin-1 bytes
        ("https://e.example/tag/a%2Fb", "https://e.example/tag/a/b"),  # escaped slash
        ("https://e.example/a?x=%80", "https://e.example/a?x=%FF"),
        ("https://e.example/a?q=a%2Bb", "https://e.example/a?q=a+b"),  # '+' vs escaped '+'
        ("https://e.example/a?k=a%26b", "https://e.example/a?k=a&b"),  # escaped '&'
    ],
)
def test_distinct_escapes_stay_distinct(one: str, other: str) -> None:
    assert canonicalize_url(one) != canonicalize_url(other)


def test_escapes_are_normalized_without_decoding_reserved_bytes() -> None:
    assert canonicalize_url("https://e.example/tag/a%2fb") == "https://e.example/tag/a%2Fb"
    assert canonicalize_url("https://e.example/a%zz") == "https://e.example/a%25zz"
    assert canonicalize_url("https://e.example/é?q=ü") == "https://e.example/%C3%A9?q=%C3%BC"
    assert canonicalize_url("https://e.example/a?utm%5Fsource=x&b=1") == "https://e.example/a?b=1"


def test_relative_canonical_is_resolved_against_the_page() -> None:
    page = "https://www.example.com/amp/2026/story"
    assert story_key(page, "/2026/story") == "https://www.example.com/2026/story"
    assert story_key(page, "//www.example.com/2026/story") == "https://www.example.com/2026/story"


def test_home_page_canonical_does_not_fold_articles() -> None:
    assert story_key("https://e.example/a", "https://e.example/") == "https://e.example/a"
    assert story_key("https://e.example/?page=1", "https://e.example/") == "https://e.example/"


def test_shared_platforms_and_ports_are_separate_sites() -> None:
    assert not same_site("https://alice.github.io/a", "https://bob.github.io/a")
    assert not same_site("https://alice.blogspot.com/p/x", "https://mallory.blogspot.com/p/x")
    assert not same_site("https://alice.netlify.app/p/x", "https://mallory.netlify.app/p/x")
    assert same_site("https://alice.blogspot.com/p/x", "https://www.alice.blogspot.com/p/y")
    assert not same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")
    assert same_site("https://example.com:443/a", "https://example.com/b")


# Anything a page or feed can put in a URL: controls, lone surrogates (JSON "\\ud800"),
# IDN hosts with ideographic full stops, ports, userinfo, escapes, fragments.
_url_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=40)
_url_pieces = st.sampled_from(
    ["", "/", ".", "。", "．", "%", "%2e", "%zz", "?", "&", "=", "#", ":", "@", "[", "]", "utm_x=1"]
)
_any_urls = st.one_of(
    _url_text,
    st.builds(
        lambda scheme, host, port, rest: f"{scheme}://{host}{port}{rest}",
        st.sampled_from(["http", "HTTPS", "https", "ftp", "javascript"]),
        st.one_of(
            st.sampled_from(["example.com", "EXAMPLE.com.", "exämple.com", "[::1]", "a.b.co.uk"]),
            _url_text,
        ),
        st.sampled_from(["", ":80", ":443", ":8080", ":", ":0", ":99999", ":+1"]),
        st.lists(st.one_of(_url_pieces, _url_text), max_size=6).map("".join),
    ),
)


@given(url=_any_urls)
@example(url="https://A.com\u3002/x")  # IDNA made the full stop a trailing dot
@example(url="https://a.com/\ud800")  # a lone surrogate raised UnicodeEncodeError
@example(url="HTTP://\u00af")  # IDNA mapped the macron to a space inside the host
@example(url="HTTP://[::]@]")  # the host "]" made a canonical URL that does not parse
def test_any_string_is_a_canonical_url_or_invalid(url: str) -> None:
    """canonicalize_url raises only InvalidURLError; what it returns is an ASCII http(s) URL
    with a host and no fragment that canonicalizes to itself, so one story has one key."""
    try:
        once = canonicalize_url(url)
    except InvalidURLError:
        return
    assert once.isascii()
    parts = urlsplit(once)
    assert parts.scheme in ("http", "https") and parts.hostname
    assert "#" not in once and not any(ch in once for ch in " \t\r\n\x00")
    assert canonicalize_url(once) == once


@given(
    page=st.sampled_from(
        ["https://www.example.com/2026/11/story.html", "http://127.0.0.1:8001/a", "https://e.ex/"]
    ),
    declared=st.one_of(st.none(), _any_urls),
)
def test_story_key_accepts_any_declared_canonical(page: str, declared: str | None) -> None:
    """A page's declared canonical is untrusted: whatever it says, the story key is the
    page's own canonical URL or another URL of the same site, never an exception."""
    key = story_key(page, declared)
    assert key == canonicalize_url(page) or same_site(key, page)
    assert canonicalize_url(key) == key
