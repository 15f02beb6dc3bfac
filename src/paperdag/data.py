"""Checked downloads for paper-scale data: sha256 + size, retries with backoff, atomic write.

A file is only ever visible at its final path once its size and checksum matched; a
mismatch, an HTTP error or a stalled server raises `DownloadError` naming the URL and
the expected checksum, and leaves nothing behind that a later run could mistake for data.
Errors that another attempt can cure (truncation, altered bytes, 5xx, 408/429, timeouts,
dropped connections) are retried with exponential backoff; the others (404 and other
4xx) fail at once.

URLs are http(s), file, or `doi:DOI/FILE`: a DOI is resolved to the file's direct URL by
pooch's repository resolvers (Zenodo, figshare, Dataverse), then fetched and checked here like
any other URL. config.yaml is the hash registry: each download entry pins its url and sha256.
Progress is logged every `PROGRESS_EVERY` seconds of a transfer.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import re
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from paperdag.io import atomic_path

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RETRYABLE_HTTP = {408, 429}
PROGRESS_EVERY = 10.0  # seconds between progress lines of one transfer


class DownloadError(RuntimeError):
    """A download failed for good; the message names the URL and the expected sha256."""


class _PermanentError(DownloadError):
    """A failure that another attempt cannot cure (e.g. HTTP 404)."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_url(url: str, timeout: float = 30.0) -> str:
    """The direct URL of `url`: itself, or for `doi:DOI/FILE` the repository's URL of FILE.

    A DOI that no supported repository (Zenodo, figshare, Dataverse) serves, or a FILE the
    record does not hold, raises `DownloadError` at once; network errors while resolving are
    retried by the caller like any transfer error.
    """
    if not url.startswith("doi:"):
        return url
    import requests
    from pooch.downloaders import doi_to_repository
    from pooch.utils import parse_url

    parsed = parse_url(url)
    file_name = parsed["path"].lstrip("/")
    if not file_name:
        raise _PermanentError(f"{url} names no file: a doi: URL is doi:DOI/FILE")
    try:
        return doi_to_repository(parsed["netloc"], timeout=timeout).download_url(file_name)
    except requests.RequestException as err:
        raise OSError(f"resolving {url}: {err}") from err
    except ValueError as err:  # pooch: unsupported repository, or no such file in the record
        raise _PermanentError(f"resolving {url}: {err}") from err


def _fetch_once(url: str, dest: Path, timeout: float, size: int | None, deadline: float) -> None:
    """One attempt: stream `url` into `dest`, checking length, size and a wall-clock deadline."""
    start = last_report = time.monotonic()
    url = resolve_url(url, timeout)
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code < 500 and err.code not in _RETRYABLE_HTTP:
            raise _PermanentError(f"HTTP {err.code} {err.reason}") from err
        raise
    with response, open(dest, "wb") as out:
        header = response.headers.get("Content-Length")
        expected_len = int(header) if header is not None else None
        if size is not None and expected_len is not None and expected_len != size:
            raise DownloadError(f"server announces {expected_len} bytes, expected {size}")
        limit = size if size is not None else expected_len
        written = 0
        while True:
            block = response.read1(1 << 16)  # returns what has arrived, so the deadline is checked
            if not block:
                break
            out.write(block)
            written += len(block)
            if limit is not None and written > limit:  # never fill the disk with an oversized reply
                raise DownloadError(f"more than the expected {limit} bytes")
            now = time.monotonic()
            if now - start > deadline:
                raise TimeoutError(f"no complete reply within {deadline:g} s ({written} bytes so far)")
            if now - last_report > PROGRESS_EVERY:
                last_report = now
                total = f" of {limit / 1e6:,.1f} MB ({100 * written / limit:.0f}%)" if limit else " MB"
                log.info("%s: %.1f%s after %.0f s", url, written / 1e6, total, now - start)
    if limit is not None and written != limit:
        raise DownloadError(f"truncated, got {written} of {limit} bytes")


def download(url: str, dest: str | Path, sha256: str, *, size: int | None = None, retries: int = 3,
             timeout: float = 30.0, deadline: float = 3600.0, backoff: float = 1.0,
             config_key: str | None = None) -> Path:
    """Fetch `url` to `dest` unless a file with the right checksum is already there.

    `sha256` is required (a pinned checksum, lower-case hex); without one the error says how to
    record it, and where (`config_key`, the dotted config.yaml key of that sum, if given).
    `size`, if given, is checked too.
    `timeout` bounds each socket read (a stalled server), `deadline` one whole attempt (a trickle).
    Attempt k+1 starts `backoff * 2**(k-1)` seconds after attempt k failed with a retryable error.
    """
    dest = Path(dest)
    if not _SHA256.match(sha256 or ""):
        where = f" at {config_key}" if config_key else ""
        raise DownloadError(f"refusing to download {url}: no pinned sha256 (got {sha256!r}). Download {dest.name} once "
                            f"on a machine with network, check it, run `sha256sum {dest.name}` and record the sum in "
                            f"config.yaml{where}")
    if dest.exists():
        if sha256_file(dest) == sha256 and (size is None or dest.stat().st_size == size):
            return dest
        log.warning("%s exists but does not match sha256 %s; removing it and downloading again", dest, sha256)
        dest.unlink()
    return _fetch_checked(url, dest, sha256, size, retries, timeout, deadline, backoff)[0]


def _fetch_checked(url: str, dest: Path, sha256: str | None, size: int | None, retries: int, timeout: float,
                   deadline: float, backoff: float) -> tuple[Path, str]:
    """The retry loop of `download` and `pin`: returns the file and its sha256 (checked unless None)."""
    expected = sha256 or "none (pinning)"
    last_error = "unknown error"
    for attempt in range(1, retries + 1):
        try:
            with atomic_path(dest) as tmp:
                _fetch_once(url, tmp, timeout, size, deadline)
                got = sha256_file(tmp)
                if sha256 is not None and got != sha256:
                    raise DownloadError(f"checksum mismatch: got sha256 {got}")
            return dest, got
        except _PermanentError as err:
            raise DownloadError(f"could not download {url} (expected sha256 {expected}): {err}") from err
        except (urllib.error.URLError, http.client.HTTPException, OSError, DownloadError) as err:
            last_error = f"{type(err).__name__}: {err}"
            log.warning("download %s attempt %d/%d failed: %s", url, attempt, retries, last_error)
            if attempt < retries:
                time.sleep(backoff * 2 ** (attempt - 1))
    raise DownloadError(f"could not download {url} (expected sha256 {expected}) after {retries} attempts: {last_error}")


def pin(url: str, dest: str | Path, *, retries: int = 3, timeout: float = 30.0, deadline: float = 3600.0,
        backoff: float = 1.0) -> tuple[str, int]:
    """Download a file whose checksum is not yet known (`paperdag data pin`): its sha256 and size.

    The same retries and atomic write as `download`; the caller records the sum, after which
    every later fetch of the file is checked against it.
    """
    if not url:
        raise DownloadError("nothing to pin: the entry's url is empty")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    path, sha256 = _fetch_checked(url, dest, None, None, retries, timeout, deadline, backoff)
    return sha256, path.stat().st_size


def download_entry(config_path: str | Path, key: str) -> dict:
    """The download entry {url, filename, sha256} at dotted `key` of config.yaml (KeyError naming the key)."""
    import yaml

    entry = yaml.safe_load(Path(config_path).read_text())
    for part in key.split("."):
        if not isinstance(entry, dict) or part not in entry:
            raise KeyError(f"config.yaml has no key '{key}' (missing '{part}')")
        entry = entry[part]
    if not isinstance(entry, dict) or not {"url", "sha256"} <= set(entry):
        raise KeyError(f"config.yaml key '{key}' is not a download entry {{url, filename, sha256}}")
    return entry


def write_pin(config_path: str | Path, key: str, sha256: str, size: int) -> None:
    """Record `sha256` (and the size, as a comment) for the download entry at dotted `key` of config.yaml.

    Edits the entry's one line in place, so the file's comments and layout stay as they are;
    refuses (naming the key) when the entry is not one line `{url: …, sha256: …}` with that url.
    """
    config_path = Path(config_path)
    entry = download_entry(config_path, key)
    lines = config_path.read_text().splitlines(keepends=True)
    leaf = key.rsplit(".", 1)[-1]
    hits = [i for i, line in enumerate(lines) if entry["url"] and entry["url"] in line and "sha256:" in line
            and line.lstrip().startswith(f"{leaf}:")]
    if len(hits) != 1:
        raise KeyError(f"config.yaml key '{key}': expected its entry on one line with its url, found {len(hits)}")
    line = re.sub(r"""sha256:\s*(?:"[0-9a-f]*"|'[0-9a-f]*'|[0-9a-f]*)""", f'sha256: "{sha256}"', lines[hits[0]], count=1)
    if "#" not in line.split("}")[-1]:
        line = line.rstrip("\n") + f"  # {size:,} bytes\n"
    lines[hits[0]] = line
    with atomic_path(config_path) as tmp:
        Path(tmp).write_text("".join(lines))


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
