"""`paperdag data pin KEY`: download one file from a local HTTP server and record its sha256 in config.yaml."""
from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperdag.cli import main

PAYLOAD = b"paperdag pin test\n" * 100
SHA = hashlib.sha256(PAYLOAD).hexdigest()

CONFIG = """\
demo:
  paper:
    # a comment that must survive
    downloads:
      shard: {{url: "{url}/shard.bin", filename: shard.bin, sha256: ""}}
      other: {{url: "{url}/other.bin", filename: other.bin, sha256: "{other}"}}
      missing: {{url: "{url}/404", filename: missing.bin, sha256: ""}}
"""


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if self.path in ("/shard.bin", "/other.bin"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        else:
            self.send_error(404)


@pytest.fixture()
def project(tmp_path: Path) -> Iterator[Path]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    (tmp_path / "Snakefile").write_text("")
    (tmp_path / "config.yaml").write_text(CONFIG.format(url=url, other="0" * 64))
    yield tmp_path
    server.shutdown()


def test_pin_downloads_and_records_the_sum(project: Path, capsys):
    assert main(["-C", str(project), "data", "pin", "demo.paper.downloads.shard"]) == 0
    text = (project / "config.yaml").read_text()
    assert f'sha256: "{SHA}"}}  # {len(PAYLOAD):,} bytes' in text
    assert "# a comment that must survive" in text and 'other.bin, sha256: "' + "0" * 64 in text
    assert (project / "data" / "downloads" / "shard.bin").read_bytes() == PAYLOAD
    assert SHA in capsys.readouterr().out


def test_pin_refuses_a_changed_upstream_file_and_bad_keys(project: Path, capsys):
    before = (project / "config.yaml").read_text()
    assert main(["-C", str(project), "data", "pin", "demo.paper.downloads.other"]) == 2
    assert "is pinned to sha256 000" in capsys.readouterr().err
    assert main(["-C", str(project), "data", "pin", "demo.paper.downloads.nope"]) == 2
    assert "no key 'demo.paper.downloads.nope'" in capsys.readouterr().err
    assert main(["-C", str(project), "data", "pin", "demo.paper"]) == 2
    assert "not a download entry" in capsys.readouterr().err
    assert main(["-C", str(project), "data", "pin", "demo.paper.downloads.missing"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
    assert (project / "config.yaml").read_text() == before  # nothing written by a failed pin
    assert not (project / "data" / "downloads" / "missing.bin").exists()
