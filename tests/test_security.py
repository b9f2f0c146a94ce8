"""Security: loopback only, no share link, no file reads outside the app, no uploads, no pickle, escaped text."""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest
from servers import ROOT, lexical_app

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
    for path in [*ROOT.joinpath("qa").glob("*.py"), ROOT / "app.py"]:
        assert not risky.search(path.read_text(encoding="utf-8")), path


def test_gradio_version_excludes_known_path_traversal_releases():
    floor = (6, 16)  # GHSA-j36p-7w88-g82j: path traversal before 6.16.0
    installed = tuple(int(part) for part in version("gradio").split(".")[:2])
    assert installed >= floor
    pyproject = Path(ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"gradio>=6.16,<7"' in pyproject
