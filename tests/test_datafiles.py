"""Tests for gatelib.datafiles: the vendored files match their documented checksums."""
from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import pytest

from gatelib import datafiles

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED_MANIFEST = Path("/work/shared/data/MANIFEST.md")  # only on the build machine
SHA_ROW = re.compile(r"^\|\s*([\w./-]+)\s*\|\s*\d+\s*\|\s*([0-9a-f]{64})\s*\|\s*$", re.M)


def _checksums() -> dict[str, str]:
    return json.loads((DATA / "checksums.json").read_text(encoding="utf-8"))


def test_data_dir_default_is_repo_data():
    assert datafiles.DATA_DIR == DATA.resolve() or datafiles._data_dir() == DATA.resolve()


def test_every_file_matches_checksums_json():
    sums = _checksums()
    on_disk = {p.relative_to(DATA).as_posix() for p in DATA.rglob("*")
               if p.is_file() and p.name not in ("checksums.json", "DATA.md")}
    assert on_disk == set(sums), "checksums.json must list exactly the vendored files"
    for rel, sha in sums.items():
        assert hashlib.sha256((DATA / rel).read_bytes()).hexdigest() == sha, rel


def test_checksums_json_matches_documented_table():
    table = dict(SHA_ROW.findall((DATA / "DATA.md").read_text(encoding="utf-8")))
    assert table == _checksums()


def test_gzip_copies_decompress_to_the_documented_originals():
    doc = (DATA / "DATA.md").read_text(encoding="utf-8")
    gz = [rel for rel in _checksums() if rel.endswith(".gz") and rel != "flickr30k_ar/captions.tsv.gz"
          and not rel.startswith("near_copies/")]  # derived: gatelib.near_copies writes it
    assert len(gz) == 5
    for rel in gz:  # a gzip copy of a byte-exact original, whose sha256 DATA.md names
        assert hashlib.sha256(gzip.decompress((DATA / rel).read_bytes())).hexdigest() in doc, rel


@pytest.mark.skipif(not SHARED_MANIFEST.exists(), reason="shared MANIFEST only on the build machine")
def test_checksums_json_matches_shared_manifest():
    manifest = dict(SHA_ROW.findall(SHARED_MANIFEST.read_text(encoding="utf-8")))
    sums = _checksums()
    assert manifest and all(sums[k] == v for k, v in manifest.items())
