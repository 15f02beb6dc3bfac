"""Checked downloads against a local HTTP server on 127.0.0.1 that misbehaves on purpose.

Each fault must be detected (size, sha256, HTTP status, timeout), retried with backoff when
another attempt can help, and otherwise reported with the URL and the expected checksum;
the destination never holds a bad file and no temporary file is left beside it.
"""
from __future__ import annotations

import hashlib
import http.server
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperdag import data
from paperdag.data import DownloadError, download

PAYLOAD = bytes(range(256)) * 64  # 16 KiB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    hits: Counter
    release: threading.Event


class _Handler(http.server.BaseHTTPRequestHandler):
    """One path per fault; `/flaky<k>` fails with 500 on its first k requests."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _head(self, status: int = 200, length: int | None = len(PAYLOAD), chunked: bool = False) -> None:
        self.send_response(status)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif length is not None:
            self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()

    def do_GET(self) -> None:
        path = self.path
        self.server.hits[path] += 1
        if path == "/good":
            self._head()
            self.wfile.write(PAYLOAD)
        elif path == "/truncated":  # announces the full length, sends half, hangs up
            self._head()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
        elif path == "/truncated-nolength":  # no Content-Length: only the checksum can tell
            self._head(length=None)
            self.wfile.write(PAYLOAD[:1000])
        elif path == "/truncated-chunked":  # chunked encoding cut off mid-stream
            self._head(chunked=True)
            self.wfile.write(b"%x\r\n%s\r\n" % (1000, PAYLOAD[:1000]))
        elif path == "/altered":  # right length, one byte changed
            self._head()
            self.wfile.write(PAYLOAD[:100] + bytes([PAYLOAD[100] ^ 1]) + PAYLOAD[101:])
        elif path == "/oversized":  # much more than the expected size
            self._head(length=len(PAYLOAD) * 4)
            self.wfile.write(PAYLOAD * 4)
        elif path.startswith("/flaky"):
            if self.server.hits[path] <= int(path[len("/flaky"):]):
                self._head(500, length=0)
            else:
                self._head()
                self.wfile.write(PAYLOAD)
        elif path == "/error500":
            self._head(500, length=0)
        elif path == "/missing":
            self._head(404, length=0)
        elif path == "/stall":  # headers and a little data, then silence
            self._head()
            self.wfile.write(PAYLOAD[:10])
            self.wfile.flush()
            self.server.release.wait(10)
        elif path == "/trickle":  # a byte at a time, never silent long enough for a read timeout
            self._head()
            for i in range(len(PAYLOAD)):
                if self.server.release.wait(0.02):
                    break
                self.wfile.write(PAYLOAD[i:i + 1])
                self.wfile.flush()


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.hits, srv.release = Counter(), threading.Event()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """Record the backoff pauses instead of sleeping them."""
    recorded: list[float] = []
    monkeypatch.setattr(data.time, "sleep", recorded.append)
    return recorded


def url(server: _Server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def fetch(server: _Server, path: str, dest: Path, **kw) -> Path:
    kw.setdefault("timeout", 0.5)
    kw.setdefault("backoff", 0.25)
    return download(url(server, path), dest, kw.pop("sha256", SHA), **kw)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_good_download_is_checked_and_not_fetched_twice(server, tmp_path, sleeps):
    dest = tmp_path / "d" / "file.bin"
    assert fetch(server, "/good", dest, size=len(PAYLOAD)).read_bytes() == PAYLOAD
    before = server.hits["/good"]
    fetch(server, "/good", dest, size=len(PAYLOAD))
    assert server.hits["/good"] == before and leftovers(dest.parent) == ["file.bin"] and sleeps == []


@pytest.mark.parametrize("path,why", [
    ("/truncated", "truncated"),
    ("/truncated-nolength", "checksum mismatch"),
    ("/truncated-chunked", "IncompleteRead"),
    ("/altered", "checksum mismatch"),
    ("/error500", "500"),
])
def test_fault_is_retried_with_backoff_then_reported(server, tmp_path, sleeps, path, why):
    dest = tmp_path / "file.bin"
    before = server.hits[path]
    with pytest.raises(DownloadError) as err:
        fetch(server, path, dest, retries=3)
    message = str(err.value)
    assert url(server, path) in message and SHA in message and why in message
    assert server.hits[path] - before == 3 and sleeps == [0.25, 0.5]
    assert leftovers(tmp_path) == []  # no bad file, no temporary file


def test_server_error_cured_by_a_retry(server, tmp_path, sleeps):
    dest = tmp_path / "file.bin"
    assert fetch(server, "/flaky2", dest, retries=3).read_bytes() == PAYLOAD
    assert server.hits["/flaky2"] == 3 and sleeps == [0.25, 0.5]


def test_not_found_is_not_retried(server, tmp_path, sleeps):
    with pytest.raises(DownloadError, match="404") as err:
        fetch(server, "/missing", tmp_path / "file.bin", retries=3)
    assert SHA in str(err.value) and server.hits["/missing"] == 1 and sleeps == []
    assert leftovers(tmp_path) == []


def test_oversized_reply_is_refused_before_it_is_read(server, tmp_path, sleeps):
    with pytest.raises(DownloadError, match="announces"):
        fetch(server, "/oversized", tmp_path / "file.bin", size=len(PAYLOAD), retries=1)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("path,kw", [("/stall", {}), ("/trickle", {"deadline": 0.6})])
def test_stalled_server_times_out(server, tmp_path, sleeps, path, kw):
    start = time.monotonic()
    with pytest.raises(DownloadError, match="[Tt]ime") as err:
        fetch(server, path, tmp_path / "file.bin", retries=2, timeout=0.3, **kw)
    assert time.monotonic() - start < 5 and SHA in str(err.value)
    assert server.hits[path] >= 2 and len(sleeps) == 1 and leftovers(tmp_path) == []


def test_bad_file_already_at_destination_is_replaced(server, tmp_path, sleeps):
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"stale or tampered")
    assert fetch(server, "/good", dest).read_bytes() == PAYLOAD


def test_bad_file_already_at_destination_is_removed_when_download_fails(server, tmp_path, sleeps):
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"stale or tampered")
    with pytest.raises(DownloadError):
        fetch(server, "/error500", dest, retries=1)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("sha", ["", "abc", SHA.upper()])
def test_download_without_a_pinned_checksum_is_refused(server, tmp_path, sha):
    before = server.hits["/good"]
    with pytest.raises(DownloadError, match="no pinned sha256"):
        fetch(server, "/good", tmp_path / "file.bin", sha256=sha)
    assert server.hits["/good"] == before


class _Record:
    """A stand-in for pooch's repository record of one DOI: it holds the files it was given."""

    def __init__(self, files: dict[str, str]):
        self.files = files

    def download_url(self, file_name: str) -> str:
        if file_name not in self.files:
            raise ValueError(f"File '{file_name}' not found in data archive")
        return self.files[file_name]


def test_doi_url_is_resolved_then_checked(server, tmp_path, sleeps, monkeypatch):
    """`doi:DOI/FILE` goes through pooch's resolver (network-free here) to a URL that is then
    fetched and checked like any other; a file the record lacks fails at once, naming the URL."""
    import pooch.downloaders

    dois = []

    def resolve(doi: str, **kwargs) -> _Record:
        dois.append(doi)
        return _Record({"data.bin": url(server, "/good"), "bad.bin": url(server, "/altered")})

    monkeypatch.setattr(pooch.downloaders, "doi_to_repository", resolve)
    dest = tmp_path / "data.bin"
    assert download("doi:10.5281/zenodo.1234/data.bin", dest, SHA, timeout=0.5).read_bytes() == PAYLOAD
    assert dois == ["10.5281/zenodo.1234"]
    with pytest.raises(DownloadError, match=r"doi:10\.5281/zenodo\.1234/bad\.bin.*checksum mismatch"):
        download("doi:10.5281/zenodo.1234/bad.bin", tmp_path / "bad.bin", SHA, timeout=0.5, backoff=0.25)
    with pytest.raises(DownloadError, match=r"doi:10\.5281/zenodo\.1234/absent\.bin.*not found in data archive"):
        download("doi:10.5281/zenodo.1234/absent.bin", tmp_path / "absent.bin", SHA, timeout=0.5)
    assert leftovers(tmp_path) == ["data.bin"]
    with pytest.raises(DownloadError, match="names no file"):
        download("doi:10.5281/zenodo.1234", tmp_path / "x.bin", SHA, timeout=0.5)


def test_progress_is_logged_during_a_transfer(server, tmp_path, sleeps, monkeypatch, caplog):
    monkeypatch.setattr(data, "PROGRESS_EVERY", -1.0)  # a line for every block
    with caplog.at_level("INFO", logger="paperdag.data"):
        fetch(server, "/good", tmp_path / "file.bin", size=len(PAYLOAD))
    assert any("MB (" in record.getMessage() and "%" in record.getMessage() for record in caplog.records)
