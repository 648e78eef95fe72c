"""`newsarchive serve`: the read-only web app over the archive (crawler.web)."""

from __future__ import annotations

import ipaddress
import re
import socket
import sys

import click

from crawler.cli.common import fail, handle_errors
from crawler.keys import Env
from crawler.running.exit_codes import EXIT_USAGE

_TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{16,256}")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option(
    "--token", envvar=Env.WEB_TOKEN, metavar="TOKEN",
    help=f"ask every request for this token (16+ of A-Z a-z 0-9 . _ ~ -); env {Env.WEB_TOKEN}",
)  # fmt: skip
@click.option(
    "--public", is_flag=True,
    help="listen on a non-loopback --host without a token: anyone who can reach it reads "
    "the whole archive (read-only)",
)  # fmt: skip
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str, port: int, token: str | None, public: bool) -> None:
    """Serve a read-only web app to search, read, compare and watch the archive.

    Pages: / (overview), /search, /articles/ID (and its versions, diff, archived page),
    /changes (and /changes.atom), /sites, /runs; each also as JSON under /api. The archive
    is opened read-only. Binds to 127.0.0.1 by default; any other address needs --token
    (checked on every request) or --public.
    """
    token = token or None
    if token is not None and not _TOKEN_RE.fullmatch(token):
        fail("--token: use 16 to 256 of A-Z a-z 0-9 . _ ~ -", EXIT_USAGE)
    if not is_loopback(host) and not token and not public:
        fail(
            f"--host {host} is reachable from other machines: give --token TOKEN "
            f"(or {Env.WEB_TOKEN}), or --public to serve the archive to anyone who can reach it",
            EXIT_USAGE,
        )
    import uvicorn

    from crawler.web.app import build_app

    app = build_app(ctx.obj["db"], token=token)  # a bad --db fails here, in one line
    try:
        with socket.create_server((host, port), reuse_port=False) as probe:
            probe.close()
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    shown = f"[{host}]" if ":" in host else host
    exposure = "with a token" if token else ("to anyone (--public)" if public else "locally")
    click.echo(f"serving http://{shown}:{port}/ {exposure}; Ctrl-C to stop", err=True)
    uvicorn.run(
        app, host=host, port=port, log_level="warning", access_log=False, server_header=False
    )
    sys.exit(0)
