"""URL identity: which spellings of a URL name the same story.

News URLs arrive dressed in campaign parameters, fragments, mixed-case hosts and AMP or
print variants. The archive keys an article by one canonical spelling so that every
variant finds the same story and none of them causes a second article.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

__all__ = [
    "InvalidURLError",
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

# Second-level labels under which country-code registries sell names (example.co.uk).
_SECOND_LEVEL = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go", "gob"})


class InvalidURLError(ValueError):
    """A string that cannot be archived as a web page address."""


def is_tracking_parameter(name: str) -> bool:
    """True for query parameters that carry campaign or click tracking only."""
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def _normalize_percent(part: str, safe: str) -> str:
    """Re-quote a path or query part so `%7E`, `~` and `%7e` spell one URL."""
    return quote(unquote(part), safe=safe)


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
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError:
        raise InvalidURLError(f"URL has an invalid host name: {url!r}") from None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normalize_percent(parts.path or "/", safe="/:@!$&'()*+,;=-._~")
    pairs = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_parameter(key)
    ]
    pairs.sort()
    # '+' stays encoded: in a query it would read back as a space, changing the URL.
    query = urlencode(pairs, quote_via=quote, safe="/:@!$'()*,;-._~")
    return urlunsplit((scheme, netloc, path, query, ""))


def _bare_host(host: str) -> str:
    for prefix in _ALIAS_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix) :]
    return host


def registrable_domain(host: str) -> str:
    """The part of a host name a publisher registers (news.bbc.co.uk -> bbc.co.uk).

    A heuristic without the public suffix list: two labels, or three under a
    country-code second level such as `co.uk`. IP literals are their own domain.
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
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url_a: str, url_b: str) -> bool:
    """True when two URLs belong to one publisher's site (www/m/amp hosts included)."""
    host_a = urlsplit(url_a).hostname or ""
    host_b = urlsplit(url_b).hostname or ""
    if not host_a or not host_b:
        return False
    if _bare_host(host_a) == _bare_host(host_b):
        return True
    return registrable_domain(host_a) == registrable_domain(host_b)


def story_key(final_url: str, declared_canonical: str | None) -> str:
    """The canonical URL that identifies the story behind a fetched page.

    A page's own `rel=canonical` folds AMP, print and syndicated-path variants into one
    story, but only when it points into the same site: a canonical on another domain is
    a claim about someone else's page, which we do not let merge two sites' articles.
    """
    fetched = canonicalize_url(final_url)
    if declared_canonical:
        try:
            declared = canonicalize_url(declared_canonical)
        except InvalidURLError:
            return fetched
        if same_site(fetched, declared):
            return declared
    return fetched
