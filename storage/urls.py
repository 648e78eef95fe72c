"""URL identity: which spellings of a URL name the same story.

News URLs arrive dressed in campaign parameters, fragments, mixed-case hosts and AMP or
print variants. The archive keys an article by one canonical spelling so that every
variant finds the same story and none of them causes a second article.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

__all__ = [
    "InvalidURLError",
    "canonical_or_none",
    "canonicalize_url",
    "is_tracking_parameter",
    "registrable_domain",
    "same_site",
    "story_key",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Exact parameter names that only say where a click came from, never which page it is.
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "cmpid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "ocid",
        "smid",
        "smtyp",
        "sr_share",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "spm",
        "s_cid",
        "xtor",
        "wt_mc",
        "wt.mc_id",
        "icid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "outputtype",
    }
)
# Prefixes of families of tracking parameters (utm_source, utm_medium, pk_campaign, ...).
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "hsa_", "vero_", "oly_", "__twitter")

# Hosts that serve the same site as their bare domain.
_ALIAS_HOST_PREFIXES = ("www.", "m.", "mobile.", "amp.")

_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/:@!$'()*+,;-._~?"


class InvalidURLError(ValueError):
    """A string that cannot be archived as a web page address."""


def is_tracking_parameter(name: str) -> bool:
    """True for query parameters that carry campaign or click tracking only."""
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


# A host name as RFC 3986 allows it (reg-name): unreserved, sub-delims, percent escapes.
_REG_NAME = re.compile(r"[a-z0-9\-._~!$&'()*+,;=%]+")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _unescape_unreserved(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _normalize_percent(part: str, safe: str) -> str:
    """RFC 3986 normalization of one component, without changing what it means.

    Escapes of unreserved characters are decoded (`%7E` -> `~`), other escapes keep their
    bytes with upper-case hex (`%2f` -> `%2F`, never `/`; `%E9` stays: it is not UTF-8 and
    must not collapse with other bytes into U+FFFD), and raw characters that need escaping
    are escaped as UTF-8.
    """
    part = _LONE_PERCENT_RE.sub("%25", part)
    part = quote(part, safe=safe + "%")
    return _ESCAPE_RE.sub(_unescape_unreserved, part)


def _query_key(raw_key: str) -> str:
    return unquote(raw_key.replace("+", " "))


@lru_cache(maxsize=65536)
def canonicalize_url(url: str) -> str:
    """Return the one spelling of `url` used as an identity.

    Lower-case scheme and host, default port dropped, fragment dropped, tracking
    parameters dropped, remaining query parameters sorted, percent-encoding normalized,
    an empty path written as `/`. Raises InvalidURLError for anything that is not an
    absolute http(s) URL with a host.
    """
    if not isinstance(url, str):
        raise InvalidURLError(f"not a URL: {url!r}")
    text = url.strip()
    if not text or any(ch in text for ch in "\x00\r\n\t "):
        raise InvalidURLError(f"not a URL: {url!r}")
    if not text.isascii():
        try:  # a lone surrogate (from JSON's "\\ud800") has no UTF-8 to escape
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidURLError(f"not a URL: {url!r}") from None
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURLError(f"not a URL: {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURLError(f"not an http(s) URL: {url!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidURLError(f"URL has no host: {url!r}")
    if host.isascii():
        host = host.lower()
    else:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURLError(f"URL has an invalid host name: {url!r}") from None
    # IDNA turns the ideographic full stop of `example.com。` into a trailing dot: strip
    # it too, or that spelling and its own canonical form would be two stories.
    host = host.rstrip(".")
    if not host:
        raise InvalidURLError(f"URL has no host: {url!r}")
    if ":" in host:  # IPv6 literal (urlsplit has checked it)
        host = f"[{host}]"
    elif not _REG_NAME.fullmatch(host):
        # A stray `]` (`http://[::]@]`), or the space Python's IDNA makes of U+00AF: a
        # "canonical" URL with such a host would not parse again as the same host.
        raise InvalidURLError(f"URL has an invalid host name: {url!r}")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normalize_percent(parts.path or "/", safe=_PATH_SAFE)
    # The query is split but never decoded: '+', '%26' and '%3D' keep their meaning.
    fields = []
    for field in parts.query.split("&"):
        if not field:
            continue
        key, sep, value = field.partition("=")
        if is_tracking_parameter(_query_key(key)):
            continue
        fields.append(
            _normalize_percent(key, _QUERY_SAFE) + sep + _normalize_percent(value, _QUERY_SAFE)
        )
    fields.sort()
    return urlunsplit((scheme, netloc, path, "&".join(fields), ""))


def canonical_or_none(url: str) -> str | None:
    """The canonical URL, or None for a string that is not an archivable address."""
    try:
        return canonicalize_url(url)
    except InvalidURLError:
        return None


def _bare_host(host: str) -> str:
    for prefix in _ALIAS_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def registrable_domain(host: str) -> str:
    """The part of a host name a publisher registers (news.bbc.co.uk -> bbc.co.uk).

    By the public suffix list, its private section included, so that hosting platforms
    that list themselves there (alice.github.io, bob.blogspot.com) are one site per
    publisher. The list is the copy bundled with the `tld` package, never fetched at run
    time; a host under a suffix it does not know (`.example`, `.test`, an intranet name)
    follows the list's default rule, the last two labels. IP literals are their own
    domain.
    """
    host = host.lower().rstrip(".")
    if host.startswith("["):
        return host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return host
    from tld import get_fld  # the list is loaded only in the processes that need it

    domain = get_fld(host, fix_protocol=True, fail_silently=True)
    if isinstance(domain, str) and domain:
        return domain
    return ".".join(host.split(".")[-2:])


def _host_and_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme_port = _DEFAULT_PORTS.get(parts.scheme.lower())
    return (parts.hostname or "").lower(), None if port == scheme_port else port


def same_site(url_a: str, url_b: str) -> bool:
    """True when two URLs belong to one publisher's site (www/m/amp hosts included).

    Hosts under a hosting platform in the public suffix list (alice.github.io,
    bob.github.io) are separate publishers, and so are two ports of one host (two local
    sites on 127.0.0.1).
    """
    host_a, port_a = _host_and_port(url_a)
    host_b, port_b = _host_and_port(url_b)
    if not host_a or not host_b or port_a != port_b:
        return False
    if _bare_host(host_a) == _bare_host(host_b):
        return True
    return registrable_domain(host_a) == registrable_domain(host_b)


def story_key(final_url: str, declared_canonical: str | None) -> str:
    """The canonical URL that identifies the story behind a fetched page.

    A page's own `rel=canonical` (absolute, or relative to the page) folds AMP, print and
    syndicated-path variants into one story, but only when it points into the same site:
    a canonical on another domain is a claim about someone else's page, and a canonical
    that names the home page for an article is a site template's mistake; neither may
    merge stories.
    """
    fetched = canonicalize_url(final_url)
    if declared_canonical:
        try:
            declared = canonicalize_url(urljoin(fetched, declared_canonical.strip()))
        except (InvalidURLError, ValueError):
            return fetched
        home = urlsplit(declared).path == "/" and not urlsplit(declared).query
        if same_site(fetched, declared) and (not home or urlsplit(fetched).path == "/"):
            return declared
    return fetched
