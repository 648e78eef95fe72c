"""Every trick that buys start-up time or memory at some cost in plainness, in one place.

None changes what a crawl requests or how it decides; one (limit_date_languages) narrows the
last-resort search for a date in a page's text, see its docstring. docs/benchmarks.md ("What
each change bought") has what each bought when it was measured. They touch other libraries'
internals (inspect, pebble, htmldate, glibc, the interpreter's exit), which is exactly what
to rule out when a crawl misbehaves: `NEWSARCHIVE_SPEEDUPS=0` turns them all off, for the
command and its extraction workers alike.

This module imports nothing of the project but its names, and no heavy library at import
time, so every layer can use it.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from crawler.keys import Env

__all__ = [
    "NEWS_LANGUAGES",
    "boot_a_worker_first",
    "enabled",
    "exit_at_once",
    "import_without_stack_source",
    "limit_date_languages",
    "poll_pebble_often",
    "rehearse",
    "trim_heap",
]

log = logging.getLogger(__name__)

# How often pebble's manager threads look at a pool, in seconds (pebble's default: 0.1).
PEBBLE_POLL_SECONDS = 0.02
# Languages dateparser tries when htmldate searches a page's text for a date.
NEWS_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "cs", "pl", "ko", "ar",
    "tr", "sv", "da", "nb", "fi", "el", "hu", "ro", "uk", "he", "hi", "id", "vi", "fa",
    "ca", "sk",
)  # fmt: skip


def enabled() -> bool:
    """False when NEWSARCHIVE_SPEEDUPS=0 (or "off", "false", "no") asks for none of them."""
    value = os.environ.get(Env.SPEEDUPS, "1").strip().lower()
    return value not in ("0", "off", "false", "no")


def boot_a_worker_first() -> bool:
    """Start one extraction worker before the command's own imports, on the core they leave
    idle, so the first page is analysed the moment it arrives."""
    return enabled()


def import_without_stack_source(module: str) -> None:
    """Import `module` with `inspect.stack()` reading no source files.

    Scrapy's TLS modules build deprecated aliases with `inspect.stack()` only to name their
    own module, and `inspect.stack()` reads the source of every frame on the stack: costly
    deep in the engine, where the download handler is otherwise first imported. Frames
    without source context name the same module. Off: the engine imports it as usual.
    """
    if not enabled():
        return
    real_stack = inspect.stack

    def stack_without_source(context: int = 1) -> list[inspect.FrameInfo]:
        return inspect.getouterframes(sys._getframe(1), 0)

    inspect.stack = stack_without_source
    try:
        __import__(module)
    finally:
        inspect.stack = real_stack


def poll_pebble_often(consts: Any) -> None:
    """Make pebble's manager threads (`pebble.CONSTS`) poll every PEBBLE_POLL_SECONDS.

    Stopping a pool waits out the current poll, so each crawl's end waited up to pebble's
    0.1 s; an idle pool's polls cost a negligible share of a core. Process-wide: nothing
    else in the crawler uses pebble.
    """
    if enabled():
        consts.sleep_unit = PEBBLE_POLL_SECONDS


@functools.cache
def _news_date_parser() -> Any:
    from dateparser import DateDataParser

    # htmldate's own settings (htmldate.extractors.get_external_parser), languages aside.
    return DateDataParser(
        languages=list(NEWS_LANGUAGES),
        settings={
            "NORMALIZE": True,
            "PARSERS": ["custom-formats", "absolute-time"],
            "PREFER_DATES_FROM": "past",
            "PREFER_LOCALE_DATE_ORDER": True,
            "RETURN_AS_TIMEZONE_AWARE": False,
            "STRICT_PARSING": True,
        },
    )


@functools.cache
def limit_date_languages() -> None:
    """Make htmldate's free-text date search try NEWS_LANGUAGES, not every locale.

    With `languages=None` dateparser tries each of its ~200 locales, compiling each one's
    patterns on first use: a cold cost every extraction worker paid, for no date that
    changed on the corpus. Dates in structured data (JSON-LD, Open Graph, <time>, meta)
    never reach dateparser, so a page in another language loses only this last resort.
    Once per process; a no-op if htmldate no longer has the function it replaces.
    """
    if not enabled():
        return
    try:
        from htmldate import extractors
    except ImportError:
        return
    if callable(getattr(extractors, "get_external_parser", None)):
        extractors.get_external_parser = _news_date_parser


def rehearse(work: Callable[[], object]) -> None:
    """Run `work` once in a starting extraction worker (an analysis of a built-in article),
    so its first real page does not pay for the first analysis's lazy loading.

    A failure only logs: a worker whose start raised would be restarted by pebble forever
    while pages waited for it.
    """
    if not enabled():
        return
    try:
        work()
    except Exception:
        log.exception("the extraction worker's rehearsal failed")


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None
    return trim


def trim_heap() -> None:
    """Hand the heap a finished page freed back to the system (glibc's malloc_trim).

    glibc keeps freed pages, so a worker's resident memory would stay at the high-water
    mark of the largest page it has seen; trimming keeps the crawl near its working set.
    """
    if enabled() and (trim := _malloc_trim()) is not None:
        trim(0)


def exit_at_once(code: int) -> NoReturn:
    """End a finished crawl without the interpreter's teardown of Scrapy, Twisted and
    SQLAlchemy, which every scheduled or scripted crawl would pay; everything is written,
    closed and flushed by then. Off: a normal exit."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    if not enabled():
        raise SystemExit(code)
    os._exit(code)
