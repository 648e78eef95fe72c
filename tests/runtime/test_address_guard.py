"""No requests to private, loopback, link-local or other non-public addresses, in any
spelling, unless the site's start URL names the host."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.demo.newspaper import SITE_DIR
from crawler.demo.siteserver import Route, SiteServer
from crawler.runtime import settings as crawl_settings
from crawler.runtime.address_guard import _first_forbidden, forbidden_address

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "fe80::1", "fc00::1", "::",
     "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1", "not an address",
     # IPv4 inside IPv6: 6to4 and NAT64 forms of loopback and private space, Teredo
     "2002:7f00:1::", "2002:a00:1::1", "64:ff9b::7f00:1", "64:ff9b::a00:1",
     "2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.0.8"],
)  # fmt: skip
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert forbidden_address(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not forbidden_address(address)


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "localhost"])
def test_every_spelling_of_loopback_is_caught(host: str) -> None:
    # numeric forms and /etc/hosts names resolve locally, without the network
    assert asyncio.run(_first_forbidden(host)) in ("127.0.0.1", "::1")


WITHOUT_EARLY_CHECK = json.dumps(
    {
        **crawl_settings.DOWNLOADER_MIDDLEWARES,
        "crawler.runtime.address_guard.AddressGuardMiddleware": None,
    }
)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("overrides", "blocked"),
    [
        ([], True),
        # The early check alone is enough ...
        (["-s", "TWISTED_DNS_RESOLVER=scrapy.resolver.CachingThreadedResolver"], True),
        # ... and so is the check at connect time alone (what catches DNS rebinding) ...
        (["-s", f"DOWNLOADER_MIDDLEWARES={WITHOUT_EARLY_CHECK}"], True),
        # ... and without both, the loopback name is requested: the test can fail.
        (["-s", f"DOWNLOADER_MIDDLEWARES={WITHOUT_EARLY_CHECK}",
          "-s", "TWISTED_DNS_RESOLVER=scrapy.resolver.CachingThreadedResolver"], False),
    ],
    ids=["both-checks", "early-check-only", "resolver-only", "no-defence"],
)  # fmt: skip
def test_a_site_host_resolving_to_loopback_is_not_requested(
    tmp_path: Path, overrides: list[str], blocked: bool
) -> None:
    """A name of the site that resolves to loopback is refused, by the early check and by
    the resolver the downloader connects through, each on its own. The resolver is the
    defence against DNS rebinding: whatever the name resolved to when the request was
    checked, the address actually connected to is checked again."""
    story = (SITE_DIR / "local/2026/11/comet-lights-up-sky-over-harbor.html").read_bytes()
    server = SiteServer({}).start()
    port = server.url.rsplit(":", 1)[1]
    try:
        home = (
            '<html><head><meta property="og:type" content="website"></head><body>'
            f'<a href="http://localhost:{port}/comet.html">The comet over the harbor tonight</a>'
            f'<a href="/ferry.html">The island ferry cuts its evening sailings</a></body></html>'
        )
        body = story.replace(b"{{BASE}}", server.url.encode())
        server.set_routes(
            {"/": Route(home.encode()), "/comet.html": Route(body), "/ferry.html": Route(body)}
        )
        sites = tmp_path / "sites.toml"
        # localhost belongs to the site by its domains, but is not a start host
        sites.write_text(
            f'[sites.t]\nstart_urls = ["{server.url}/"]\ndomains = ["localhost"]\n'
            "settings = { DOWNLOAD_DELAY = 0, AUTOTHROTTLE_ENABLED = false }\n"
        )
        result = subprocess.run(
            [str(BIN / "newsarchive"), "--db", f"sqlite:///{tmp_path / 'a.db'}", "--sites",
             str(sites), "crawl", "t", "--format", "json", *overrides],
            capture_output=True, text=True, timeout=120, env=dict(os.environ),
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    (run,) = json.loads(result.stdout)
    hosts = {entry.headers.get("Host", "") for entry in server.log}
    assert server.requested("/ferry.html") >= 1
    if blocked:
        assert run["counters"].get("blocked", {}).get("address") == 1, run["counters"]
        assert not any(h.startswith("localhost") for h in hosts)
        assert server.requested("/comet.html") == 0
        # A refusal is final: the page and the host's robots.txt reach the resolver once
        # each, never again as retries.
        assert result.stderr.count("address guard: refused to connect") <= 2, result.stderr
    else:
        assert any(h.startswith("localhost") for h in hosts)
        assert server.requested("/comet.html") >= 1
