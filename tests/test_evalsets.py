"""Tests for gatelib.evalsets: the evaluation sets, their strict parsers and the exact-match leak rule."""
from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import pytest

from gatelib import evalsets as E
from gatelib.datafiles import DataError

from conftest import write_file

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def held_out() -> set[str]:
    return E.eval_sentences()


EVAL_ROWS = {
    "sts17-ar-ar": 250, "sts17-en-ar": 250, "semrel-arq-test": 583, "semrel-ary-test": 426,
    "semrel-arq-dev": 97, "semrel-ary-dev": 71, "semrel-arb-dev": 32, "stsb-ar-mt": 1377,
}


def test_registry_covers_counts():
    assert set(E.EVAL_SETS) == set(EVAL_ROWS)
    assert set(E.EVAL_SETS_TEST) <= set(E.EVAL_SETS) | set(E.RETRIEVAL_SETS)


@pytest.mark.parametrize("name", list(EVAL_ROWS))
def test_eval_sets(name):
    ds = E.load_eval_set(name)
    assert len(ds) == EVAL_ROWS[name]
    assert ds.column_names == ["sentence1", "sentence2", "score"]
    assert all(0.0 <= s <= 1.0 and not math.isnan(s) for s in ds["score"])
    assert all(s.strip() for c in ("sentence1", "sentence2") for s in ds[c])


def test_sts17_kept_verbatim_and_en_ar_orientation():
    ar = E.load_eval_set("sts17-ar-ar")
    raw = (DATA / "sts17/STS.input.track1.ar-ar.txt").read_text(encoding="utf-8").splitlines()
    assert [f"{a}\t{b}" for a, b in zip(ar["sentence1"], ar["sentence2"])] == raw
    gold = [float(x) for x in (DATA / "sts17/STS.gs.track1.ar-ar.txt").read_text().split()]
    assert ar["score"] == pytest.approx([g / 5 for g in gold])
    en = E.load_eval_set("sts17-en-ar")
    assert en["sentence1"][0] == "two men are crying"
    assert re.search("[\u0600-\u06ff]", en["sentence2"][0])


def test_find_overlap_detects_planted_overlap(held_out):
    import datasets
    sts = E.load_eval_set("sts17-ar-ar")
    planted = sts["sentence1"][7]
    # diacritics + tatweel + extra spaces must not hide the leak
    disguised = "  " + planted.replace(" ", "   ", 1) + "\u064e"
    disguised = disguised[:4] + "\u0640" + disguised[4:]
    ds = datasets.Dataset.from_dict({"anchor": ["لا علاقة", disguised], "positive": ["x", "y"]})
    hits = E.find_overlap(ds, held_out)
    assert [(r, c) for r, c, _ in hits] == [(1, "anchor")]
    with pytest.raises(DataError, match="overlap"):
        E.assert_no_overlap(ds, held_out)


def test_normalize_text():
    assert E.normalize_text("  مُحَمَّد\u0640  Hello\tWORLD ") == "محمد hello world"


def test_sts_parser_bom_crlf_and_quotes(tmp_path):
    inp = write_file(tmp_path, "in.txt", 'رجل "يقرأ\tكتاب \n a b\tc\n', bom=True, crlf=True)
    gs = write_file(tmp_path, "gs.txt", "5.0\n0\n", crlf=True)
    cols = E._parse_sts17(inp, gs)
    assert cols["sentence1"] == ['رجل "يقرأ', " a b"]  # BOM gone, quote is data, spaces kept
    assert cols["sentence2"] == ["كتاب ", "c"]  # trailing CR stripped, trailing space kept
    assert cols["score"] == [1.0, 0.0]


@pytest.mark.parametrize("gold, msg", [("nan", "NaN or outside"), ("5.5", "NaN or outside"),
                                       ("-1", "NaN or outside"), ("abc", "not a number")])
def test_sts_parser_bad_scores(tmp_path, gold, msg):
    inp = write_file(tmp_path, "in.txt", "a\tb\nc\td\n")
    gs = write_file(tmp_path, "gs.txt", f"1\n{gold}\n")
    with pytest.raises(DataError, match=rf"line 2: .*{msg}"):
        E._parse_sts17(inp, gs)


def test_sts_parser_empty_sentence_and_column_count(tmp_path):
    gs = write_file(tmp_path, "gs.txt", "1\n2\n")
    with pytest.raises(DataError, match="line 2: empty"):
        E._parse_sts17(write_file(tmp_path, "a.txt", "a\tb\n   \tc\n"), gs)
    with pytest.raises(DataError, match="line 2: expected 2 columns, found 3"):
        E._parse_sts17(write_file(tmp_path, "b.txt", "a\tb\nc\td\te\n"), gs)
    with pytest.raises(DataError, match="row-aligned"):
        E._parse_sts17(write_file(tmp_path, "c.txt", "a\tb\n"), gs)


def test_semrel_parser(tmp_path):
    ok = write_file(tmp_path, "ok.csv", 'PairID,Text,Score\nA-1,"جملة\n أخرى",0.5\n', bom=True, crlf=True)
    cols = E._parse_semrel(ok)
    assert cols == {"sentence1": ["جملة"], "sentence2": [" أخرى"], "score": [0.5]}
    with pytest.raises(DataError, match="outside"):
        E._parse_semrel(write_file(tmp_path, "s.csv", 'PairID,Text,Score\nA-1,"a\nb",1.5\n'))
    with pytest.raises(DataError, match="NaN"):
        E._parse_semrel(write_file(tmp_path, "n.csv", 'PairID,Text,Score\nA-1,"a\nb",nan\n'))
    with pytest.raises(DataError, match="exactly two"):
        E._parse_semrel(write_file(tmp_path, "t.csv", 'PairID,Text,Score\nA-1,"a b",0.5\n'))
    with pytest.raises(DataError, match="expected header"):
        E._parse_semrel(write_file(tmp_path, "h.csv", 'ID,Text,Score\nA-1,"a\nb",0.5\n'))


def test_stsb_parser_handles_pandas_quoting(tmp_path):
    head = "\t".join(E._STSB_HEADER)
    p = write_file(tmp_path, "s.tsv", f'{head}\n0\t2.5\t"قال ""لا""."\tب\t"said ""no""."\tb\n')
    cols = E._parse_stsb(p)
    assert cols["sentence1"] == ['قال "لا".'] and cols["score"] == [0.5]


def test_malformed_content_in_real_layout_is_caught(data_copy):
    """Edit a vendored file *and* its checksum: the content checks still fire."""
    rel = "stsb_ar_mt/stsb_test_ar_googlemt.tsv"
    p = data_copy / rel
    lines = p.read_text(encoding="utf-8").split("\n")
    f = lines[5].split("\t")
    f[1] = "7.0"
    lines[5] = "\t".join(f)
    p.write_text("\n".join(lines), encoding="utf-8")
    sums = json.loads((data_copy / "checksums.json").read_text())
    sums[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    (data_copy / "checksums.json").write_text(json.dumps(sums))
    with pytest.raises(DataError, match=r"stsb_test_ar_googlemt\.tsv line 6: score '7\.0'"):
        E.load_eval_set("stsb-ar-mt")
