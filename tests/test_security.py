"""Security: loopback only, no share link, no file reads outside the app, no uploads, no pickle, escaped text."""

from __future__ import annotations

import re
import socket
import time
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.servers import ROOT, lexical_app

TRAVERSALS = [
    "gradio_api/file=/etc/passwd",
    "gradio_api/file=../../../../../../etc/passwd",
    "gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "gradio_api/file=..%2f..%2f..%2f..%2fetc%2fpasswd",
    "gradio_api/file=/tmp/gradio/../../etc/passwd",
    "gradio_api/file/etc/passwd",
    "gradio_api/file/../../../../etc/passwd",
    "file=/etc/passwd",
    "file=../../../../etc/passwd",
    "static/../../../../etc/passwd",
    "assets/../../../../etc/passwd",
    "gradio_api/file=" + str(ROOT / "pyproject.toml"),
    "gradio_api/file=" + str(ROOT / "qa" / "retriever.py"),
    "gradio_api/file=index/manifest.json",
    "gradio_api/file=corpus/breaking-the-chains-of-human-trafficking-in-pakistan.txt",
    "gradio_api/file=https://evil.example.com/x",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory, seed_corpus):
    with lexical_app(seed_corpus, tmp_path_factory.mktemp("security")) as running:
        yield running


def _get(url: str) -> tuple[int, bytes, str | None]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.read(), response.headers.get("location")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("location")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_file_routes_refuse_paths_outside_the_app(server, path):
    status, body, location = _get(server.url + path)
    assert b"root:x:" not in body
    assert b"[build-system]" not in body and b"class Retriever" not in body and b"format_version" not in body
    assert b"Human trafficking in Pakistan" not in body
    assert status in (400, 403, 404, 405), (path, status)
    assert not (location or "").startswith("https://evil")


def test_uploads_are_refused(server):
    boundary = "qa-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    ).encode()
    for path in ("gradio_api/upload", "upload", "gradio_api/upload/"):
        request = urllib.request.Request(
            server.url + path,
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError(f"{path} accepted an upload")
        except urllib.error.HTTPError as error:
            assert error.code in (403, 404, 405), (path, error.code)


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_server_is_not_reachable_from_other_interfaces(server):
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(OSError):
        socket.create_connection((address, server.port), timeout=3).close()
    socket.create_connection(("127.0.0.1", server.port), timeout=3).close()


def test_no_share_link_unless_asked(server):
    log = server.log.read_text()
    assert "gradio.live" not in log and "public URL" not in log.lower().replace("create a public link", "")


def test_no_pickle_in_the_code():
    risky = re.compile(r"\bimport pickle\b|\bpickle\.loads?\b|allow_pickle=True|\btorch\.load\(|\bjoblib\b|\bdill\b")
    paths = [*ROOT.joinpath("qa").rglob("*.py"), ROOT / "app.py"]
    assert len(paths) > 40, "every module of every stage is read"
    for path in paths:
        assert not risky.search(path.read_text(encoding="utf-8")), path


def test_gradio_version_excludes_known_path_traversal_releases():
    floor = (6, 16)  # GHSA-j36p-7w88-g82j: path traversal before 6.16.0
    installed = tuple(int(part) for part in version("gradio").split(".")[:2])
    assert installed >= floor
    pyproject = Path(ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"gradio>=6.16,<7"' in pyproject


# -- DNS rebinding, uploads and body sizes, telemetry, what the console shows ---------------------------------


def _request(server, path: str, host: str | None = None, method: str = "GET", body: bytes | None = None, **headers):
    """(status, body) of one raw HTTP request, with the Host header set as given (a browser after DNS rebinding)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=host is not None)
        if host is not None:
            connection.putheader("Host", host)
        for name, value in headers.items():
            connection.putheader(name.replace("_", "-"), value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


ASK = b'{"data": ["How many traffickers did the FIA arrest in Gujranwala?", 3]}'


@pytest.mark.parametrize("host", ["rebind.evil.example.com", "attacker.test:{port}", "localhost.evil.com"])
def test_a_rebound_host_name_gets_nothing(server, host):
    host = host.format(port=server.port)
    for method, path, body in [
        ("GET", "/", None),
        ("GET", "/gradio_api/info", None),
        ("POST", "/gradio_api/call/ask", ASK),
    ]:
        headers = {"Content-Type": "application/json"} if body else {}
        status, answer = _request(server, path, host, method, body, **headers)
        assert status == 403, (host, path, status)
        assert b"Gujranwala" not in answer and b"trafficking" not in answer.lower()
        assert b"does not answer for the host name" in answer


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}", "LOCALHOST", "192.0.2.7"])
def test_loopback_host_names_and_ip_addresses_are_answered(server, host):
    status, _ = _request(server, "/gradio_api/info", host.format(port=server.port))
    assert status == 200


def test_a_host_name_allowed_at_start_is_answered(tmp_path, seed_corpus):
    with lexical_app(seed_corpus, tmp_path, "--allow-host", "newsroom.example.org") as running:
        assert _request(running, "/gradio_api/info", f"newsroom.example.org:{running.port}")[0] == 200
        assert _request(running, "/gradio_api/info", "other.example.org")[0] == 403


@pytest.mark.parametrize(
    "allowed,host,answered",
    [
        ([], "newsroom.example.org", False),
        (["newsroom.example.org"], "newsroom.example.org", True),
        (["newsroom.example.org"], "evil.newsroom.example.org", False),
        (["*.example.org"], "newsroom.example.org", True),
        (["*"], "anything.example.com", True),
        (["0.0.0.0"], "0.0.0.0", True),  # an IP literal: nothing to rebind
        (["0.0.0.0"], "evil.example.com", False),  # listening everywhere allows no name by itself
        ([], "app.localhost", True),
    ],
)
def test_host_rules(allowed, host, answered):
    from qa.serve.webguard import AllowedHosts

    assert AllowedHosts(None, allowed).allows(host) is answered  # type: ignore[arg-type]


MULTIPART = (
    b'--b\r\nContent-Disposition: form-data; name="video"; filename="x.webm"\r\n'
    b"Content-Type: video/webm\r\n\r\n" + b"\x1a" * 900_000 + b"\r\n--b--\r\n"
)


@pytest.mark.parametrize(
    "path", ["/gradio_api/process_recording", "/gradio_api/component_server", "/gradio_api/queue/join", "/upload"]
)
def test_no_route_takes_a_file(server, path):
    status, body = _request(server, path, method="POST", body=MULTIPART, Content_Type="multipart/form-data; boundary=b")
    assert status == 403 and b"takes no uploads" in body


def test_a_declared_huge_body_is_refused_before_it_is_sent(server):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest("POST", "/gradio_api/component_server")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(300 << 20))
        connection.endheaders()  # not one byte of the 300 MB is sent: the answer comes first
        response = connection.getresponse()
        assert response.status == 413 and b"limited to 1,048,576 bytes" in response.read()
    finally:
        connection.close()


def test_a_chunked_body_over_the_limit_is_refused(server):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        chunks = (b"x" * 65536 for _ in range(40))  # 2.6 MB without a stated length
        connection.request(
            "POST", "/gradio_api/component_server", body=chunks, headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()


def test_the_api_still_answers_behind_the_guards(server):
    from gradio_client import Client

    answer = Client(server.url, verbose=False).predict("How many traffickers did the FIA arrest?", 2, api_name="/ask")
    assert "Gujranwala" in answer


@pytest.mark.parametrize(
    "question,k,message",
    [
        ('""', "5", "The question is empty"),
        ('"trafficking"', "0", "k must be at least 1"),
        ('"trafficking"', "Infinity", "k must be a whole number, not inf"),
        ('"trafficking"', "1000000", "k can be at most 20"),
    ],
)
def test_api_user_errors_are_clear_and_log_no_traceback(server, question, k, message):
    import json

    # Raw JSON ("Infinity" as a browser script can send it), with every input of /ask: question, k,
    # outlets, date_from, date_to, include_undated, rerank, collapse.
    payload = f'{{"data": [{question}, {k}, null, null, null, false, false, true]}}'.encode()
    status, body = _request(
        server, "/gradio_api/call/ask", method="POST", body=payload, Content_Type="application/json"
    )
    assert status == 200, body
    status, events = _request(server, f"/gradio_api/call/ask/{json.loads(body)['event_id']}")
    assert "event: error" in events.decode() and message in events.decode(), events
    assert "cannot convert" not in events.decode()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


def test_nothing_leaves_the_machine_when_the_server_starts(tmp_path, seed_corpus):
    """Every outward connection goes through a proxy that only records it: none may arrive (no telemetry,
    no version check), also where the environment turned Gradio's analytics on."""
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    attempts: list[bytes] = []
    running = True

    def record() -> None:
        while running:
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    attempts.append(connection.recv(200))
                except OSError:
                    attempts.append(b"?")

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    env = {
        "GRADIO_ANALYTICS_ENABLED": "True",
        "HTTPS_PROXY": proxy,
        "HTTP_PROXY": proxy,
        "https_proxy": proxy,
        "http_proxy": proxy,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    try:
        with lexical_app(seed_corpus, tmp_path, env=env) as app:
            _request(app, "/")
            time.sleep(5)  # the version check and launch analytics run in background threads
    finally:
        running = False
        recorder.join(2)
        listener.close()
    assert attempts == [], attempts


# -- an index folder from someone else ------------------------------------------------------------------------


def _tampered_copy(index: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "untrusted"
    shutil.copytree(index, copy)
    return copy


def _reseal(index: Path) -> None:
    """Recompute the manifest's file records and checksum, as anyone can (the checksum has no key)."""
    from qa.index.integrity import file_record
    from qa.index.manifest import Manifest

    manifest = Manifest.read(index)
    manifest.files = {name: file_record(index / name) for name in manifest.files}
    manifest.write(index)


def test_an_index_whose_manifest_names_files_outside_it_is_refused(tmp_path, lexical_index):
    from qa.errors import IndexFormatError
    from qa.index.integrity import file_record
    from qa.index.manifest import Manifest
    from qa.search.retriever import Retriever

    for outside in ("/etc/passwd", "../../../../etc/passwd", "catalog/../../secret.txt"):
        index = _tampered_copy(lexical_index, tmp_path / outside.replace("/", "_"))
        manifest = Manifest.read(index)
        manifest.files[outside] = {"bytes": 1, "sha256": "0" * 64, "sample_sha256": "0" * 64}
        manifest.write(index)
        with pytest.raises(IndexFormatError, match="names a file outside its folder") as raised:
            Retriever.load(index)
        assert not re.search(r"\d+ bytes", str(raised.value)), "nothing about the outside file is told"
    index = _tampered_copy(lexical_index, tmp_path / "symlink")
    (index / "passages.jsonl").unlink()
    (index / "passages.jsonl").symlink_to("/etc/passwd")
    manifest = Manifest.read(index)
    manifest.files["passages.jsonl"] = file_record(Path("/etc/passwd"))
    manifest.write(index)
    with pytest.raises(IndexFormatError, match="passages.jsonl is a symlink, which qa never writes"):
        Retriever.load(index)


@pytest.mark.parametrize("damage", ["posting past the last passage", "vocabulary past the terms", "offsets"])
def test_out_of_range_lexical_arrays_give_a_clean_error(tmp_path, lexical_index, damage):
    import json

    import numpy as np

    from qa.errors import IndexFormatError, IndexMismatchError
    from qa.search.retriever import Retriever

    index = _tampered_copy(lexical_index, tmp_path)
    field = index / "lexical" / "passage"
    if damage == "posting past the last passage":
        indices = np.load(field / "indices.csc.index.npy")
        indices[:] = 10**6
        np.save(field / "indices.csc.index.npy", indices)
    elif damage == "vocabulary past the terms":
        vocab = json.loads((field / "vocab.index.json").read_text())
        (field / "vocab.index.json").write_text(json.dumps({term: 10**6 for term in vocab}))
    else:
        indptr = np.load(field / "indptr.csc.index.npy")
        np.save(field / "indptr.csc.index.npy", indptr[::-1].copy())
    _reseal(index)
    with pytest.raises((IndexFormatError, IndexMismatchError), match="lexical index .*damaged"):
        Retriever.load(index).search("How many traffickers did the FIA arrest in Gujranwala?")
