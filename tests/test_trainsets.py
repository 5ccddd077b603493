"""Tests for gatelib.trainsets: the bundled training sets' parsers and loaders, before the leak rules."""
from __future__ import annotations

from pathlib import Path

import pytest

from gatelib import trainsets as T
from gatelib.datafiles import DataError

from conftest import write_file

DATA = Path(__file__).resolve().parent.parent / "data"


def test_xnli_structure():
    pairs = T.bundled_rows("xnli-pairs")[0]
    assert {l: pairs["label"].count(l) for l in (0, 1, 2)} == {0: 830, 1: 830, 2: 830}
    trip = T.bundled_rows("xnli-triplets")[0]
    by = {(p, h): l for p, h, l in zip(pairs["premise"], pairs["hypothesis"], pairs["label"])}
    for a, p, n in zip(trip["anchor"], trip["positive"], trip["negative"]):
        assert by[(a, p)] == 0 and by[(a, n)] == 2


def test_sick_label_mapping_matches_english_side():
    # SICK-ar file: 0 neutral, 1 entailment, 2 contradiction -> 0 entailment, 1 neutral, 2 contradiction
    rows = T._parse_sick(DATA / "sick_ar/train_nli.csv")
    mean = {l: sum(r["score"] for r in rows if r["label"] == l) / sum(r["label"] == l for r in rows)
            for l in (0, 1, 2)}
    assert mean[0] > mean[2] > mean[1]  # entailment most related, neutral least
    nli, nli_dropped = T.bundled_rows("sick-nli")
    pairs, pairs_dropped = T.bundled_rows("sick-pairs")
    assert nli["premise"] == pairs["sentence1"]
    assert nli_dropped == pairs_dropped == {"duplicates": 550, "sick_valid_test_leak": 359}


def test_sick_train_has_no_valid_test_pairs():
    held = {frozenset((r["t"], r["h"])) for f in ("valid", "test")
            for r in T._parse_sick(DATA / f"sick_ar/{f}_nli.csv")}
    ds, _ = T.bundled_rows("sick-pairs")
    assert not any(frozenset(p) in held for p in zip(ds["sentence1"], ds["sentence2"]))
    assert len(set(zip(ds["sentence1"], ds["sentence2"]))) == len(ds["sentence1"])


def test_xnli_parser_bad_label_and_columns(tmp_path):
    with pytest.raises(DataError, match="line 2: unknown label"):
        T._parse_xnli(write_file(tmp_path, "x.tsv", "p\th\tentailment\np\th2\tmaybe\n", crlf=True))
    with pytest.raises(DataError, match="line 1: expected 3 columns"):
        T._parse_xnli(write_file(tmp_path, "y.tsv", "p\th\n"))


def test_every_bundled_set_has_a_loader_and_unknown_names_fail():
    assert set(T.TRAIN_FILES) == set(T._TRAIN_LOADERS)
    cols, dropped = T.bundled_rows("q2q-triplets")
    assert set(cols) == {"anchor", "positive", "negative"} and dropped["no_hard_negative"] > 0
    with pytest.raises(DataError, match="unknown bundled training set 'flickr30k-pairs'"):
        T.bundled_rows("flickr30k-pairs")  # a grouped corpus: gatelib.corpora
