"""sites.toml: `discovery` (fresh or full) and `recheck_after` (a duration), per site or
in [defaults], validated on load with the key named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crawler.config.sites import SitesConfigError, adhoc_site, load_sites, parse_sites

START = {"start_urls": ["https://news.example/"]}


def _site(**keys: object) -> dict[str, object]:
    return {"sites": {"news": {**START, **keys}}}


def test_defaults() -> None:
    site = parse_sites(_site())["news"]
    assert site.discovery == "fresh"
    assert site.recheck_after == timedelta(days=7)
    adhoc = adhoc_site("http://127.0.0.1:8123/")
    assert (adhoc.discovery, adhoc.recheck_after) == ("fresh", timedelta(days=7))


@pytest.mark.parametrize("mode", ["fresh", "full"])
def test_discovery_modes(mode: str) -> None:
    assert parse_sites(_site(discovery=mode))["news"].discovery == mode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("2w", timedelta(weeks=2)),
        ("30m", timedelta(minutes=30)),
        ("0d", timedelta(0)),  # fetch every miss again on every run
    ],
)
def test_recheck_after(text: str, expected: timedelta) -> None:
    assert parse_sites(_site(recheck_after=text))["news"].recheck_after == expected


@pytest.mark.parametrize(
    "value", ["everything", "Full", "FRESH", "", " full", 1, True, ["full"], None]
)
def test_invalid_discovery_names_the_key(value: object) -> None:
    with pytest.raises(SitesConfigError) as info:
        parse_sites(_site(discovery=value))
    message = str(info.value)
    assert message.startswith("sites.news.discovery:")
    assert '"fresh" or "full"' in message
    assert "\n" not in message


@pytest.mark.parametrize("value", ["a week", "7", "7 days", "-1d", "", "d", 7, 7.5, True, ["7d"]])
def test_invalid_recheck_after_names_the_key(value: object) -> None:
    with pytest.raises(SitesConfigError) as info:
        parse_sites(_site(recheck_after=value))
    assert str(info.value).startswith("sites.news.recheck_after:")
    assert "\n" not in str(info.value)


def test_both_keys_may_be_defaults_and_a_site_overrides_them() -> None:
    sites = parse_sites(
        {
            "defaults": {"discovery": "full", "recheck_after": "3d"},
            "sites": {
                "backfill": START,
                "daily": {**START, "discovery": "fresh", "recheck_after": "0d"},
            },
        }
    )
    assert (sites["backfill"].discovery, sites["backfill"].recheck_after) == (
        "full",
        timedelta(days=3),
    )
    assert (sites["daily"].discovery, sites["daily"].recheck_after) == ("fresh", timedelta(0))


def test_an_invalid_default_names_the_site_it_reaches() -> None:
    with pytest.raises(SitesConfigError, match=r"^sites\.news\.discovery:"):
        parse_sites({"defaults": {"discovery": "all"}, "sites": {"news": START}})
    with pytest.raises(SitesConfigError, match=r"^sites\.news\.recheck_after:"):
        parse_sites({"defaults": {"recheck_after": "soon"}, "sites": {"news": START}})


def test_from_a_sites_file(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_text(
        """
[defaults]
recheck_after = "14d"

[sites.archive]
start_urls = ["https://news.example/"]
discovery = "full"

[sites.daily]
start_urls = ["https://daily.example/"]
recheck_after = "0d"
"""
    )
    sites = load_sites(path)
    assert sites["archive"].discovery == "full"
    assert sites["archive"].recheck_after == timedelta(days=14)
    assert sites["daily"].discovery == "fresh"
    assert sites["daily"].recheck_after == timedelta(0)
    path.write_text('[sites.x]\nstart_urls = ["https://x.example/"]\ndiscovery = "smart"\n')
    with pytest.raises(SitesConfigError) as info:
        load_sites(path)
    assert str(info.value).startswith(f"{path}: sites.x.discovery:")
