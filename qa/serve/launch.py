"""Serving the page: the options `app.py` and `qa serve` share, and the one guarded launch both use.

    qa serve [--index DIR] [--corpus DIR] [--host H] [--port P] [--reranker ID|PATH] [--allow-host NAME] [--share]

Settings also come from QA_INDEX, QA_CORPUS, QA_RERANKER, GRADIO_SERVER_NAME, GRADIO_SERVER_PORT and
QA_ALLOWED_HOSTS. Serves on 127.0.0.1:7860 by default; a public share link only with --share. Nothing
leaves the machine: Gradio's analytics, version check and run history are off.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

from qa.errors import QAError
from qa.serve.cli import Parser, folder
from qa.serve.hints import error_line
from qa.settings import DEFAULT_RERANKER

DEFAULT_PORT = 7860
DEFAULT_HOST = "127.0.0.1"


class PortInUseError(QAError):
    """The port asked for is taken by another program."""


def add_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The serving options, with their environment defaults."""
    parser.add_argument(
        "--index", type=folder, default=os.environ.get("QA_INDEX", "index"), help="index folder (default: %(default)s)"
    )
    parser.add_argument(
        "--corpus",
        type=folder,
        default=os.environ.get("QA_CORPUS", "corpus"),
        help="articles to index when the index is missing (default: %(default)s)",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME", DEFAULT_HOST),
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)",
    )
    parser.add_argument("--port", type=_port, default=None, help=f"port (default: {DEFAULT_PORT})")
    parser.add_argument(
        "--reranker",
        default=os.environ.get("QA_RERANKER", DEFAULT_RERANKER),
        help=f"cross-encoder id or folder for the Rerank option (default: {DEFAULT_RERANKER})",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[name.strip() for name in os.environ.get("QA_ALLOWED_HOSTS", "").split(",") if name.strip()],
        metavar="NAME",
        help="also answer requests for this host name (repeatable; '*' for any). By default only loopback "
        "names, IP addresses and --host are answered, against DNS rebinding",
    )
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number; give a number from 1 to 65535") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number; give a number from 1 to 65535")
    return value


def port_from(args: argparse.Namespace) -> int:
    """--port, else GRADIO_SERVER_PORT, else 7860; a bad environment value is an error that names it."""
    if args.port is not None:
        return int(args.port)
    text = os.environ.get("GRADIO_SERVER_PORT")
    if not text:
        return DEFAULT_PORT
    try:
        return _port(text)
    except argparse.ArgumentTypeError as error:
        raise QAError(f"GRADIO_SERVER_PORT: {error}.") from None


def check_port(host: str, port: int) -> None:
    """Fail early, in one line, when ``port`` is taken (before an index is opened or built)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(_busy(host, port)) from None
            if error.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(error, socket.gaierror):
                raise QAError(f"Cannot listen on {host}: this machine has no such address. Check --host.") from None
            raise QAError(f"Cannot listen on {host}:{port}: {error.strerror or error}.") from None


def _busy(host: str, port: int) -> str:
    return (
        f"Port {port} on {host} is already in use (is News QA already running?). "
        f"Choose another with --port, e.g. --port {port + 1 if port < 65535 else port - 1}."
    )


def serve(args: argparse.Namespace) -> int:
    """Open (or build) the index and serve the page until interrupted; 1 after a one-line error."""
    from qa.serve.cli import setup_logging

    setup_logging()
    try:
        port = port_from(args)
        check_port(args.host, port)
        launch(
            args.index,
            args.corpus,
            args.host,
            port,
            reranker=args.reranker,
            share=args.share,
            allowed_hosts=args.allow_host,
        )
    except QAError as error:
        print(f"error: {error_line(error, args.index)}", file=sys.stderr)
        return 1
    return 0


def launch(
    index: Path | str,
    corpus: Path | str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    reranker: str = DEFAULT_RERANKER,
    share: bool = False,
    block: bool = True,
    allowed_hosts: list[str] | None = None,
) -> object:
    """The one way the page is served: Gradio with the guards of qa.serve.webguard (``allowed_hosts``:
    host names answered besides loopback, IP addresses and ``host``), sending nothing off the machine,
    quiet about advice meant for Gradio developers; returns the Blocks (still serving when ``block`` is False)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry or version check, for any Blocks made here on
    from qa.serve.page import THEME, build_page
    from qa.serve.service import Service
    from qa.serve.web import stylesheet
    from qa.serve.webguard import guard_middleware

    service = Service.open(index, corpus, reranker=reranker)
    demo = build_page(service)
    demo.queue(default_concurrency_limit=2, max_size=64)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=share,
            theme=THEME,
            css=stylesheet(),
            footer_links=[],
            max_file_size="1mb",
            run_history=False,  # its page can send runs to a Hugging Face bucket
            app_kwargs={"middleware": guard_middleware(host, allowed_hosts or [], share)},
            quiet=True,  # Gradio's own lines advise `share=True` and `launch()` parameters
            prevent_thread_lock=True,
        )
    except OSError as error:
        if "port" in str(error).lower():
            raise PortInUseError(_busy(host, port)) from None
        raise QAError(f"Cannot serve on {host}:{port}: {error}") from None
    where = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else f"every address {host} reaches"
    print(f"Running on local URL:  http://{host}:{port} ({where}). Press Ctrl+C to stop.", flush=True)
    if share and demo.share_url:
        print(f"Public link (anyone with it can read every article): {demo.share_url}", flush=True)
    if block:
        demo.block_thread()
    return demo


def main(argv: list[str] | None = None) -> int:
    """`python app.py …`: the same as `qa serve …`."""
    parser = Parser(prog="app.py", description="Serve the News QA page.")
    return serve(add_options(parser).parse_args(argv))
