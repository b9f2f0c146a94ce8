"""`qa serve` and `python app.py`: one launch, the same options, one-line errors for a taken port."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests.support.servers import ROOT, Server

GUJRANWALA = "How many traffickers did the FIA arrest in Gujranwala?"


@pytest.fixture()
def busy_port():
    """A port some other program is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("program", [["-m", "qa", "serve"], [str(ROOT / "app.py")]])
def test_a_busy_port_is_one_line_naming_it_and_the_way_out(program, busy_port, lexical_index):
    command = [sys.executable, *program, "--index", str(lexical_index), "--port", str(busy_port)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: Port {busy_port} on 127.0.0.1 is already in use (is News QA already running?). "
        f"Choose another with --port, e.g. --port {busy_port + 1}."
    ]


@pytest.mark.slow
def test_gradio_refusing_the_port_gives_the_same_line(busy_port, lexical_index, seed_corpus):
    from qa.serve.launch import PortInUseError, launch

    with pytest.raises(PortInUseError, match=f"Port {busy_port} on 127.0.0.1 is already in use"):
        launch(lexical_index, seed_corpus, port=busy_port, block=False)


def test_qa_serve_has_the_options_of_app_py():
    def options(command: list[str]) -> set[str]:
        text = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, check=True).stdout
        return {word.strip("[],") for word in text.split() if word.startswith(("--", "[--"))}

    served = options([sys.executable, "-m", "qa", "serve", "--help"])
    assert served == options([sys.executable, str(ROOT / "app.py"), "--help"])
    assert {"--index", "--corpus", "--host", "--port", "--reranker", "--share"} <= served


@pytest.mark.slow
def test_qa_serve_serves_the_page_and_the_api(lexical_index, seed_corpus, tmp_path):
    from gradio_client import Client

    program = [sys.executable, "-m", "qa", "serve"]
    with Server(lexical_index, seed_corpus, tmp_path / "serve.log", program=program) as server:
        answer = json.loads(Client(server.url, verbose=False).predict(GUJRANWALA, 2, api_name="/ask"))
        assert answer["hits"][0]["paragraph"] == 2
        log = server.log.read_text()
    assert f"Running on local URL:  http://127.0.0.1:{server.port} (this machine only)" in log
    assert "share=True" not in log and "launch()" not in log
