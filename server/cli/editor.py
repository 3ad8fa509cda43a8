"""``lessonlens serve`` and ``settings``: the language server an editor runs, and its settings."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--tcp", "tcp", metavar="HOST:PORT", help="Listen on TCP instead of stdio.")
@click.option("--log-level", default="WARNING", show_default=True, help="Log level (to stderr).")
def serve(tcp: str | None, log_level: str) -> None:
    """Run the language server (stdio by default)."""
    import logging

    # stdout is the protocol channel in stdio mode: logs go to stderr only.
    logging.basicConfig(stream=sys.stderr, level=log_level.upper(), format="%(name)s: %(message)s")
    from lessonlens.lsp.server import build_server

    server = build_server()
    if tcp is None:
        server.start_io()
        return
    host, _, port = tcp.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter("expected HOST:PORT, e.g. 127.0.0.1:2087", param_hint="--tcp")
    server.start_tcp(host or "127.0.0.1", int(port))


@click.command()
@click.option("--vscode", "fmt", flag_value="vscode", help="VS Code contributes.configuration.")
@click.option("--markdown", "fmt", flag_value="markdown", default=True, help="The reference.")
def settings(fmt: str) -> None:
    """Print the editor settings, generated from their one definition."""
    import json

    from lessonlens.server.editor.settings import reference_markdown, vscode_configuration

    if fmt == "vscode":
        click.echo(json.dumps(vscode_configuration(), indent=2))
    else:
        click.echo(reference_markdown(), nl=False)
