"""The project's tuning settings read from the environment (crawler/config/environment.py)."""

from __future__ import annotations

import pytest

from crawler.config.environment import FROM_ENVIRONMENT, settings_from_environment
from crawler.config.sites import SitesConfigError
from crawler.keys import Setting
from crawler.running.runner import build_settings
from crawler.runtime.workers import pool_for_overrides


def test_only_the_tuning_settings_are_read() -> None:
    environ = {
        "NEWSARCHIVE_WORKERS": "2",
        "NEWSARCHIVE_FLUSH_SECONDS": " 0.5 ",
        "NEWSARCHIVE_CONDITIONAL": "false",
        "NEWSARCHIVE_PAGE_TIMEOUT": "",
        "NEWSARCHIVE_RUN_ID": "7",
        "NEWSARCHIVE_TRIGGER": "scheduled",
        "DOWNLOAD_DELAY": "9",
    }
    assert settings_from_environment(environ) == {
        "NEWSARCHIVE_WORKERS": "2",
        "NEWSARCHIVE_FLUSH_SECONDS": "0.5",
        "NEWSARCHIVE_CONDITIONAL": "false",
    }
    assert Setting.RUN_ID not in FROM_ENVIRONMENT and Setting.DB not in FROM_ENVIRONMENT


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("NEWSARCHIVE_WORKERS", "1.5", "expected a whole number, got '1.5'"),
        ("NEWSARCHIVE_FLUSH_SECONDS", "nan", "expected a number from 0.01 to 3600"),
        ("NEWSARCHIVE_PAGE_TIMEOUT", "-1", "expected a number from 0.1 to 86400"),
        ("NEWSARCHIVE_CONDITIONAL", "maybe", "expected true or false, got 'maybe'"),
    ],
)
def test_a_bad_value_names_the_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(SitesConfigError) as caught:
        settings_from_environment({name: value})
    assert str(caught.value).startswith(f"environment variable {name}: {expected}")


def test_the_environment_is_under_command_line_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_WORKERS", "3")
    monkeypatch.setenv("NEWSARCHIVE_BATCH_SIZE", "7")
    settings = build_settings("sqlite:///unused.db", {"NEWSARCHIVE_BATCH_SIZE": "9"})
    assert settings.getint(Setting.WORKERS) == 3
    assert settings.getint(Setting.BATCH_SIZE) == 9
    assert settings.getpriority(Setting.WORKERS) < settings.getpriority("LOG_LEVEL")


def test_the_commands_pool_is_sized_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSARCHIVE_WORKERS", "3")
    monkeypatch.setenv("NEWSARCHIVE_PAGE_TIMEOUT", "12.5")
    pool = pool_for_overrides({})
    assert pool is not None and (pool.workers, pool.timeout) == (3, 12.5)
    pool = pool_for_overrides({"NEWSARCHIVE_WORKERS": "1"})
    assert pool is not None and pool.workers == 1
