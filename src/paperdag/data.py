"""Checked downloads for paper-scale data: sha256 + size, retries with backoff, atomic write.

A file is only ever visible at its final path once its checksum matched; a mismatch,
an HTTP error or a stalled server raises `DownloadError` naming the URL and the
expected checksum, and leaves nothing behind that a later run could mistake for data.
"""
from __future__ import annotations

import hashlib
import logging
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from paperdag.io import atomic_path

log = logging.getLogger(__name__)


class DownloadError(RuntimeError):
    """A download failed for good; the message names the URL and the expected sha256."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch_once(url: str, dest: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
        expected_len = response.headers.get("Content-Length")
        written = 0
        while True:
            block = response.read(1 << 16)
            if not block:
                break
            out.write(block)
            written += len(block)
    if expected_len is not None and written != int(expected_len):
        raise DownloadError(f"{url}: truncated, got {written} of {expected_len} bytes")


def download(url: str, dest: str | Path, sha256: str, *, retries: int = 3, timeout: float = 30.0,
             backoff: float = 1.0) -> Path:
    """Fetch `url` to `dest` unless a file with the right checksum is already there."""
    dest = Path(dest)
    if dest.exists() and sha256_file(dest) == sha256:
        return dest
    last_error = "unknown error"
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(dest) as tmp:
                _fetch_once(url, tmp, timeout)
                got = sha256_file(tmp)
                if got != sha256:
                    raise DownloadError(f"checksum mismatch: got sha256 {got}")
            return dest
        except (urllib.error.URLError, OSError, TimeoutError, DownloadError) as err:
            last_error = f"{type(err).__name__}: {err}"
            log.warning("download %s attempt %d/%d failed: %s", url, attempt, retries, last_error)
            if attempt < retries:
                time.sleep(backoff * 2 ** (attempt - 1))
    raise DownloadError(f"could not download {url} (expected sha256 {sha256}) after {retries} attempts: {last_error}")


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Extract a .zip or .tar(.gz) archive, refusing any member that would land outside `target`."""
    archive, target = Path(archive), Path(target).resolve()
    target.mkdir(parents=True, exist_ok=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            _check_members(names, target, archive)
            zf.extractall(target)
    else:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            _check_members([m.name for m in members], target, archive)
            if any(m.issym() or m.islnk() for m in members):
                raise DownloadError(f"{archive}: archive contains links; refusing to extract")
            tf.extractall(target, filter="data")
    return target


def _check_members(names: list[str], target: Path, archive: Path) -> None:
    for name in names:
        dest = (target / name).resolve()
        if target != dest and target not in dest.parents:
            raise DownloadError(f"{archive}: member '{name}' would be extracted outside {target}")
