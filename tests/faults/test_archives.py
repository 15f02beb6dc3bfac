"""Downloaded archives are never extracted outside their target folder."""
from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from paperdag.data import DownloadError, safe_extract


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(zipfile.ZipInfo(name), content)  # ZipInfo keeps the name as given
    return path


def make_tar(path: Path, members: list[tarfile.TarInfo], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for info in members:
            data = b"x" * info.size if info.isfile() else None
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tar_file(name: str, size: int = 3) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    return info


def tar_link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_good_archives_extract_inside_target(tmp_path):
    z = make_zip(tmp_path / "ok.zip", {"a/b.txt": b"hi", "c.txt": b"yo"})
    t = make_tar(tmp_path / "ok.tar.gz", [tar_file("a/b.txt"), tar_file("c.txt")])
    for archive in (z, t):
        out = safe_extract(archive, tmp_path / f"out-{archive.name}")
        assert {"a", "a/b.txt", "c.txt"} <= all_files(out)


ESCAPES = ["../evil.txt", "a/../../evil.txt", "/tmp/paperdag-evil-abs.txt", "a/./../../../evil.txt"]


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("kind", ["zip", "tar"])
def test_member_outside_target_is_refused_and_nothing_written(tmp_path, name, kind):
    work = tmp_path / "work"
    work.mkdir()
    if kind == "zip":
        archive = make_zip(tmp_path / "bad.zip", {"fine.txt": b"ok", name: b"pwned"})
    else:
        archive = make_tar(tmp_path / "bad.tar.gz", [tar_file("fine.txt"), tar_file(name)])
    before = all_files(tmp_path)
    with pytest.raises(DownloadError, match="outside"):
        safe_extract(archive, work / "target")
    assert all_files(tmp_path) - before <= {"work/target"}  # checked before anything is written
    assert not Path("/tmp/paperdag-evil-abs.txt").exists()


@pytest.mark.parametrize("member", [
    tar_link("link", "../../outside"),          # symlink pointing out
    tar_link("link", "/etc/passwd"),            # absolute symlink
    tar_link("hard", "/etc/passwd", tarfile.LNKTYPE),
])
def test_tar_links_are_refused(tmp_path, member):
    archive = make_tar(tmp_path / "links.tar", [member, tar_file("link/escape.txt")], mode="w")
    with pytest.raises(DownloadError):
        safe_extract(archive, tmp_path / "target")
    assert all_files(tmp_path / "target") == set()


def test_existing_symlink_in_target_cannot_be_used_to_escape(tmp_path):
    target, outside = tmp_path / "target", tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    os.symlink(outside, target / "sub")
    archive = make_zip(tmp_path / "via-link.zip", {"sub/evil.txt": b"pwned"})
    with pytest.raises(DownloadError, match="outside"):
        safe_extract(archive, target)
    assert list(outside.iterdir()) == []


def test_tar_device_file_is_refused(tmp_path):
    dev = tarfile.TarInfo("dev")
    dev.type = tarfile.CHRTYPE
    archive = make_tar(tmp_path / "dev.tar", [dev], mode="w")
    with pytest.raises((DownloadError, tarfile.TarError)):
        safe_extract(archive, tmp_path / "target")
    assert all_files(tmp_path / "target") == set()
