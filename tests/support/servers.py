"""app.py (or `qa serve`) run as a real server process on a free loopback port, and callers asking it
questions at the same time: for the tests, and for the load benchmark (benchmarks/load.py)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment() -> dict[str, str]:
    """This environment for a child process: the repository importable, no model download, no analytics."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "PYTHONPATH": path,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }


class Server:
    """``app.py`` serving ``index`` on a free loopback port until :meth:`stop`."""

    def __init__(
        self,
        index: Path,
        corpus: Path,
        log: Path,
        *extra: str,
        timeout: float = 180,
        program: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.index = index
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        program = program or [sys.executable, str(ROOT / "app.py")]  # or `qa serve`: the same launch
        command = [*program, "--index", str(index), "--corpus", str(corpus)]
        command += ["--port", str(self.port), *extra]
        with log.open("w") as out:
            variables = {**environment(), **(env or {})}
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=variables, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited:\n{log.read_text()}")
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"app.py did not start within {timeout:.0f} s:\n{log.read_text()}")

    def memory(self) -> dict[str, int]:
        """The server process's peak and current resident memory, in bytes."""
        found = {}
        fields = {"VmHWM": "peak_rss", "VmRSS": "rss"}
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as handle:
                for line in handle:
                    name, _, value = line.partition(":")
                    if name in fields:
                        found[fields[name]] = int(value.split()[0]) * 1024
        except OSError:
            pass
        return found

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server process has used so far."""
        try:
            with open(f"/proc/{self.process.pid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


def lexical_app(corpus: Path, folder: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """A keyword-only index of ``corpus`` built in ``folder``/index, served by app.py (logging to
    ``folder``/app.log, with ``env`` added to its environment); use it as a context manager, which
    stops the server."""
    from qa.index.build import build_index

    build_index(corpus, folder / "index", model="none")
    return Server(folder / "index", corpus, folder / "app.log", *extra, env=env)


@dataclass
class Calls:
    """What concurrent callers saw: each caller's request latencies (seconds), every problem, the wall time."""

    latencies: list[list[float]]
    errors: list[str]
    wall: float


def ask_concurrently(url: str, callers: int, seconds: float, k: int, questions: list[str]) -> Calls:
    """``callers`` gradio_client threads asking ``questions`` in turn through /ask for ``seconds``."""
    from gradio_client import Client

    clients = [Client(url, verbose=False) for _ in range(callers)]  # connecting is not part of the clock
    latencies: list[list[float]] = [[] for _ in range(callers)]
    errors: list[list[str]] = [[] for _ in range(callers)]
    start = threading.Barrier(callers + 1)
    deadline = [0.0]

    def caller(number: int) -> None:
        client, mine, wrong = clients[number], latencies[number], errors[number]
        turn = number  # each caller starts at a different question
        start.wait()
        while time.perf_counter() < deadline[0]:
            question = questions[turn % len(questions)]
            turn += 1
            began = time.perf_counter()
            try:
                problem = _check(client.predict(question, k, api_name="/ask"), k)
            except Exception as error:  # any failure of the call is an error of the run
                problem = f"{type(error).__name__}: {error}"
            mine.append(time.perf_counter() - began)
            if problem:
                wrong.append(problem)

    threads = [threading.Thread(target=caller, args=(number,), daemon=True) for number in range(callers)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    for client in clients:
        with contextlib.suppress(Exception):  # older clients have no close; nothing to release then
            client.close()
    return Calls(latencies, [problem for wrong in errors for problem in wrong], wall)


def _check(response: Any, k: int) -> str | None:
    """What is wrong with an /ask response, or None when it is a JSON answer with at most k hits."""
    try:
        answer = json.loads(response)
    except (TypeError, ValueError):
        return f"not JSON: {str(response)[:120]!r}"
    hits = answer.get("hits") if isinstance(answer, dict) else None
    if not isinstance(hits, list) or len(hits) > k:
        return f"no hit list of at most {k}: {str(response)[:120]!r}"
    return None


def open_tab(page: Any, name: str) -> None:
    """Click the page's tab ``name`` as a person would: on a narrow screen Gradio may move tabs that do not
    fit (it measures them as the page loads) into its "More tabs" menu, so open that menu first."""
    tab = page.get_by_role("tab", name=name)
    if tab.count():
        tab.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown button", has_text=name).click()
