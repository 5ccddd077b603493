"""Bundled data files: where they are, their checksums, and strict readers of their rows.

Every file under ``data/`` is listed with its sha256 in ``data/checksums.json``;
:func:`verified_path` checks a file against it before anything parses it. The readers split
delimited text exactly (no silent quoting), name the file and line of any malformed row, and
raise one exception type, :class:`DataError`. ``gatelib.evalsets``, ``gatelib.trainsets`` and
``gatelib.corpora`` (the larger grouped corpora) read through this module.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
from collections.abc import Sequence  # noqa: F401  (type hints)
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import datasets


class DataError(ValueError):
    """The one exception this module raises for missing, corrupt or malformed data."""


class Loaded(NamedTuple):
    """A set as loaded: its rows, and how many rows were dropped from it, by reason.

    Reasons: ``duplicates``, ``sick_valid_test_leak``, ``no_hard_negative`` (q2q-triplets),
    ``eval_overlap`` (shares a normalised sentence with a held-out test), ``held_out_overlap`` (with a
    dev set the profile evaluates on), the near-copy rule's (``near_copy_group``, ``near_copy_row``,
    their ``embedding_`` twins) and the grouped corpora's own (``empty``, …, ``gatelib.corpora``).
    Evaluation sets drop nothing.
    """

    dataset: datasets.Dataset
    dropped: dict[str, int]


def _resolve_data_dir() -> Path:
    env = os.environ.get("GATELIB_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parent.parent / "data"


#: The project's ``data/`` folder: ``$GATELIB_DATA_DIR`` if set, else
#: ``<parent of the gatelib package>/data``. Loaders re-read the environment variable
#: at call time (so tests can monkeypatch it); otherwise they use this value, which may
#: also be reassigned (``gatelib.datafiles.DATA_DIR = Path(...)``).
DATA_DIR: Path = _resolve_data_dir()

CHECKSUMS_FILE = "checksums.json"


def _data_dir() -> Path:
    env = os.environ.get("GATELIB_DATA_DIR")
    return Path(env).expanduser().resolve() if env else Path(DATA_DIR)


# --------------------------------------------------------------------------- checksums

def _display(path: Path) -> str:
    try:
        return f"data/{path.resolve().relative_to(_data_dir()).as_posix()}"
    except ValueError:
        return str(path)


def _load_checksums() -> dict[str, str]:
    p = _data_dir() / CHECKSUMS_FILE
    if not p.is_file():
        raise DataError(
            f"checksum manifest {p} not found: set GATELIB_DATA_DIR to the project's data/ "
            "folder or restore it with `git checkout data/`"
        )
    try:
        sums = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"{p} is not valid JSON ({e}); restore it with `git checkout data/`") from e
    if not isinstance(sums, dict):
        raise DataError(f"{p} must map relative paths to sha256 hex digests")
    return sums


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _verified_path(rel: str) -> Path:
    """Return ``data/<rel>`` after checking it exists and matches data/checksums.json."""
    path = _data_dir() / rel
    if not path.is_file():
        raise DataError(
            f"data file data/{rel} is missing (looked at {path}); restore it with "
            "`git checkout data/` or point GATELIB_DATA_DIR at a complete copy"
        )
    sums = _load_checksums()
    expected = sums.get(rel)
    if expected is None:
        raise DataError(f"data/{rel} has no entry in data/{CHECKSUMS_FILE}; add its sha256 there")
    actual = _sha256(path)
    if actual != expected:
        raise DataError(
            f"data/{rel} has sha256 {actual}, expected {expected} (data/{CHECKSUMS_FILE}): "
            "the file is corrupt or was edited; restore it with `git checkout data/`"
        )
    return path


# --------------------------------------------------------------------------- parsing

def _read_text(path: Path) -> str:
    """Read UTF-8 text (``.gz``: decompressed first), strip a BOM and turn CRLF into LF."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError as e:
        raise DataError(f"data file {path} is missing") from e
    if Path(path).suffix == ".gz":  # vendored compressed: gzip of the byte-exact original (data/DATA.md)
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DataError(f"{_display(Path(path))}: not a valid gzip file ({e}); restore it with "
                            "`git checkout data/`") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{_display(Path(path))}: not UTF-8 at byte {e.start} ({e.reason})") from e
    return text.lstrip("\ufeff").replace("\r\n", "\n")


def _read_table(
    path: Path,
    *,
    ncols: int,
    sep: str = "\t",
    quoted: bool = False,
    header: Sequence[str] | None = None,
) -> list[tuple[int, list[str]]]:
    """Parse a delimited file into ``[(line_number, fields), ...]`` (no checksum check).

    ``quoted=False`` splits every line on ``sep`` literally (csv.QUOTE_NONE: a ``"`` is
    data, never a quote). ``quoted=True`` uses RFC-4180 quoting (fields may contain the
    separator, doubled quotes or newlines). A trailing CR is removed, a BOM is stripped.
    Any row with a field count other than ``ncols`` raises :class:`DataError`.
    """
    path = Path(path)
    text = _read_text(path)
    rows: list[tuple[int, list[str]]] = []
    if quoted:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"',
                            doublequote=True, strict=True)
        start = 1
        try:
            for fields in reader:
                rows.append((start, [f.rstrip("\r") for f in fields]))
                start = reader.line_num + 1
        except csv.Error as e:
            raise DataError(f"{_display(path)} line {reader.line_num}: malformed CSV ({e})") from e
    else:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for i, line in enumerate(lines, start=1):
            rows.append((i, line.rstrip("\r").split(sep)))
    if header is not None:
        if not rows or rows[0][1] != list(header):
            got = rows[0][1] if rows else "an empty file"
            raise DataError(f"{_display(path)}: expected header {list(header)}, got {got}")
        rows = rows[1:]
    for line_no, fields in rows:
        if len(fields) != ncols:
            raise DataError(
                f"{_display(path)} line {line_no}: expected {ncols} columns, found {len(fields)} "
                f"({'quoted CSV' if quoted else 'tab-separated, no quoting'}); the row is malformed "
                "-- restore the file with `git checkout data/`"
            )
    return rows


def _check_text(s: str, path: Path, line: int, col: str) -> str:
    if not s.strip():
        raise DataError(f"{_display(path)} line {line}: empty or whitespace-only {col}")
    return s


def _check_score(x: str, path: Path, line: int, lo: float, hi: float) -> float:
    try:
        v = float(x)
    except ValueError:
        raise DataError(f"{_display(path)} line {line}: score {x!r} is not a number") from None
    if math.isnan(v) or not (lo <= v <= hi):
        raise DataError(f"{_display(path)} line {line}: score {x!r} is NaN or outside [{lo}, {hi}]")
    return v
