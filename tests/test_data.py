"""Tests for gatelib.data: integrity, counts, leak-freedom and failure modes (fast)."""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from gatelib import data as D
from gatelib import datafiles

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED_MANIFEST = Path("/work/shared/data/MANIFEST.md")  # only on the build machine
SHA_ROW = re.compile(r"^\|\s*([\w./-]+)\s*\|\s*\d+\s*\|\s*([0-9a-f]{64})\s*\|\s*$", re.M)


@pytest.fixture(autouse=True)
def _default_data_dir(monkeypatch):
    monkeypatch.delenv("GATELIB_DATA_DIR", raising=False)


@pytest.fixture(scope="module")
def held_out() -> set[str]:
    return D.eval_sentences()


# ------------------------------------------------------------------ integrity

def _checksums() -> dict[str, str]:
    return json.loads((DATA / "checksums.json").read_text(encoding="utf-8"))


def test_data_dir_default_is_repo_data():
    assert D.DATA_DIR == DATA.resolve() or datafiles._data_dir() == DATA.resolve()


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


def test_fingerprint_is_stable_and_sensitive():
    fp = D.data_fingerprint(["sts17-ar-ar"])
    assert re.fullmatch(r"[0-9a-f]{12}", fp)
    assert fp == D.data_fingerprint("sts17-ar-ar")
    assert fp != D.data_fingerprint(["sts17-en-ar"])
    # training sets depend on the held-out files read by the leak filter
    assert set(D.files_for("xnli-pairs")) >= set(D.files_for("sts17-ar-ar"))


# ------------------------------------------------------------------ counts & values

EVAL_ROWS = {
    "sts17-ar-ar": 250, "sts17-en-ar": 250, "semrel-arq-test": 583, "semrel-ary-test": 426,
    "semrel-arq-dev": 97, "semrel-ary-dev": 71, "semrel-arb-dev": 32, "stsb-ar-mt": 1377,
}
TRAIN_ROWS = {  # after de-duplication and leak filtering
    "xnli-triplets": 830, "xnli-pairs": 2490, "xnli-parallel": 6679, "xnli-dev-parallel": 3320, "sick-parallel": 5146, "q2q-pairs": 4860,
    "q2q-triplets": 4124, "sick-pairs": 3847, "sick-nli": 3847, "sick-entailment": 1019, "stsb-ar-scored": 1376,
    "semrel-arq-train": 1068, "semrel-ary-train": 653, "xnli-triplets-en": 830, "sick-entailment-en": 1088,
    # grouped corpora, decontaminated (gatelib.corpora): whole groups with a near copy dropped
    "flickr30k-pairs": 27003, "xnli-test-triplets": 1668, "xnli-test-pairs": 5000, "dial2msa-pairs": 12334,
    "dial2msa-msa-pairs": 6843,
}


def test_registries_cover_counts():
    assert set(D.EVAL_SETS) == set(EVAL_ROWS) and set(D.TRAIN_SETS) == set(TRAIN_ROWS) | set(D.CONTAMINATED_SETS) | set(D.DECONTAMINATED_SETS)
    assert D.CONTAMINATED_SETS == ("flickr30k-pairs-contaminated",)
    assert set(D.EVAL_SETS_TEST) <= set(D.EVAL_SETS) | set(D.RETRIEVAL_SETS)


def test_q2q_test_split_is_whole_components_and_never_trained_on(monkeypatch):
    test = D.load_eval_set("q2q-test")
    assert test.column_names == ["sentence1", "sentence2", "label"]
    assert (len(test), sum(test["label"])) == (1215, 530)  # ~10 % of the 11,997 labelled pairs
    held = {q for c in ("sentence1", "sentence2") for q in test[c]}
    train_rows, _ = D._q2q_split(D._parse_q2q(DATA / "nsurl2019_q2q/train.csv"))
    assert len(train_rows) + len(test) == 11997
    assert not held & {q for _, q1, q2, _ in train_rows for q in (q1, q2)}  # whole components
    for name in ("q2q-pairs", "q2q-triplets"):  # plus near-duplicates across components
        ds = D.load_train_set(name)
        assert not D.find_overlap(ds, D.eval_sentences("q2q-test"))
    assert "q2q-test" in D.EVAL_SETS_TEST and "q2q-test" not in D.EVAL_SETS
    before = D.data_fingerprint("q2q-pairs"), D.data_fingerprint("xnli-pairs"), D.data_fingerprint("sts17-ar-ar")
    monkeypatch.setattr(D, "Q2Q_TEST_RULE", "another split")  # the split rule is part of the fingerprint
    after = D.data_fingerprint("q2q-pairs"), D.data_fingerprint("xnli-pairs"), D.data_fingerprint("sts17-ar-ar")
    assert before[0] != after[0] and before[1] != after[1] and before[2] == after[2]


@pytest.mark.parametrize("name", list(EVAL_ROWS))
def test_eval_sets(name):
    ds = D.load_eval_set(name)
    assert len(ds) == EVAL_ROWS[name]
    assert ds.column_names == ["sentence1", "sentence2", "score"]
    assert all(0.0 <= s <= 1.0 and not math.isnan(s) for s in ds["score"])
    assert all(s.strip() for c in ("sentence1", "sentence2") for s in ds[c])


def test_sts17_kept_verbatim_and_en_ar_orientation():
    ar = D.load_eval_set("sts17-ar-ar")
    raw = (DATA / "sts17/STS.input.track1.ar-ar.txt").read_text(encoding="utf-8").splitlines()
    assert [f"{a}\t{b}" for a, b in zip(ar["sentence1"], ar["sentence2"])] == raw
    gold = [float(x) for x in (DATA / "sts17/STS.gs.track1.ar-ar.txt").read_text().split()]
    assert ar["score"] == pytest.approx([g / 5 for g in gold])
    en = D.load_eval_set("sts17-en-ar")
    assert en["sentence1"][0] == "two men are crying"
    assert re.search("[\u0600-\u06ff]", en["sentence2"][0])


#: Checks that decontaminate the 155k Flickr30k captions (about a minute on 2 cores) run in the slow
#: suite (``pytest -m slow``); the same code is checked on the smaller grouped corpora here.
CAPTION_SCALE = pytest.mark.slow


@pytest.mark.parametrize("name", [pytest.param(n, marks=CAPTION_SCALE) if n.startswith("flickr30k") else n
                                  for n in TRAIN_ROWS])
def test_train_sets_counts_values_and_no_overlap(name, held_out):
    ds, dropped = D.loaded_train_set(name)
    assert len(ds) == TRAIN_ROWS[name]
    assert D.find_overlap(ds, held_out) == []  # THE key check: nothing from the held-out tests
    D.assert_no_overlap(ds, held_out)
    for c in D._string_columns(ds):
        assert all(s.strip() for s in ds[c]), c
    if "score" in ds.column_names:
        assert all(0.0 <= s <= 1.0 for s in ds["score"])
    if "label" in ds.column_names:
        assert set(ds["label"]) <= {0, 1, 2}
    assert "eval_overlap" in dropped and all(n >= 0 for n in dropped.values())
    assert "rows dropped" in ds.info.description and f"eval_overlap={dropped['eval_overlap']}" in ds.info.description


def test_expected_drops_are_recorded():
    assert D.loaded_train_set("semrel-arq-train").dropped["eval_overlap"] == 193
    assert D.loaded_train_set("sick-pairs").dropped == {"duplicates": 550, "sick_valid_test_leak": 359, "eval_overlap": 0}
    assert D.loaded_train_set("q2q-triplets").dropped["no_hard_negative"] > 0
    raw = D.load_train_set("semrel-ary-train", drop_eval_overlap=False)
    assert len(raw) == 924 and D.find_overlap(raw, D.eval_sentences(["semrel-ary-test"]))


def test_xnli_structure():
    pairs = D.load_train_set("xnli-pairs")
    assert {l: pairs["label"].count(l) for l in (0, 1, 2)} == {0: 830, 1: 830, 2: 830}
    trip = D.load_train_set("xnli-triplets")
    by = {(p, h): l for p, h, l in zip(pairs["premise"], pairs["hypothesis"], pairs["label"])}
    for a, p, n in zip(trip["anchor"], trip["positive"], trip["negative"]):
        assert by[(a, p)] == 0 and by[(a, n)] == 2


def test_sick_label_mapping_matches_english_side():
    # SICK-ar file: 0 neutral, 1 entailment, 2 contradiction -> 0 entailment, 1 neutral, 2 contradiction
    rows = D._parse_sick(DATA / "sick_ar/train_nli.csv")
    mean = {l: sum(r["score"] for r in rows if r["label"] == l) / sum(r["label"] == l for r in rows)
            for l in (0, 1, 2)}
    assert mean[0] > mean[2] > mean[1]  # entailment most related, neutral least
    nli = D.load_train_set("sick-nli")
    pairs = D.load_train_set("sick-pairs")
    assert nli["premise"] == pairs["sentence1"]


def test_sick_train_has_no_valid_test_pairs():
    held = {frozenset((r["t"], r["h"])) for f in ("valid", "test")
            for r in D._parse_sick(DATA / f"sick_ar/{f}_nli.csv")}
    ds = D.load_train_set("sick-pairs")
    assert not any(frozenset(p) in held for p in zip(ds["sentence1"], ds["sentence2"]))
    assert len(set(zip(ds["sentence1"], ds["sentence2"]))) == len(ds)


# ------------------------------------------------------------------ leak checker can fail

def test_find_overlap_detects_planted_overlap(held_out):
    import datasets
    sts = D.load_eval_set("sts17-ar-ar")
    planted = sts["sentence1"][7]
    # diacritics + tatweel + extra spaces must not hide the leak
    disguised = "  " + planted.replace(" ", "   ", 1) + "\u064e"
    disguised = disguised[:4] + "\u0640" + disguised[4:]
    ds = datasets.Dataset.from_dict({"anchor": ["لا علاقة", disguised], "positive": ["x", "y"]})
    hits = D.find_overlap(ds, held_out)
    assert [(r, c) for r, c, _ in hits] == [(1, "anchor")]
    with pytest.raises(D.DataError, match="overlap"):
        D.assert_no_overlap(ds, held_out)


def test_normalize_text():
    assert D.normalize_text("  مُحَمَّد\u0640  Hello\tWORLD ") == "محمد hello world"


# ------------------------------------------------------------------ failure modes

@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    monkeypatch.setenv("GATELIB_DATA_DIR", str(dst))
    return dst


def test_corrupt_file_raises_sha256(data_copy):
    p = data_copy / "sts17/STS.gs.track1.ar-ar.txt"
    b = bytearray(p.read_bytes())
    b[0] ^= 0x01
    p.write_bytes(bytes(b))
    with pytest.raises(D.DataError, match=r"sha256.*checksums\.json.*git checkout data/"):
        D.load_eval_set("sts17-ar-ar")
    with pytest.raises(D.DataError, match="sha256"):
        D.load_train_set("xnli-pairs")  # the leak filter reads STS17 too


def test_missing_file_raises(data_copy):
    (data_copy / "xnli_ar/dev-ar.tsv").unlink()
    with pytest.raises(D.DataError, match=r"xnli_ar/dev-ar\.tsv.*missing"):
        D.load_train_set("xnli-triplets")


def test_unknown_name_raises():
    with pytest.raises(D.DataError, match="unknown"):
        D.load_eval_set("sts22-ar")
    with pytest.raises(D.DataError, match="unknown"):
        D.load_train_set("sts17-ar-ar")


def _write(tmp_path, name, text, *, bom=False, crlf=False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    p = tmp_path / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return p


def test_sts_parser_bom_crlf_and_quotes(tmp_path):
    inp = _write(tmp_path, "in.txt", 'رجل "يقرأ\tكتاب \n a b\tc\n', bom=True, crlf=True)
    gs = _write(tmp_path, "gs.txt", "5.0\n0\n", crlf=True)
    cols = D._parse_sts17(inp, gs)
    assert cols["sentence1"] == ['رجل "يقرأ', " a b"]  # BOM gone, quote is data, spaces kept
    assert cols["sentence2"] == ["كتاب ", "c"]  # trailing CR stripped, trailing space kept
    assert cols["score"] == [1.0, 0.0]


@pytest.mark.parametrize("gold, msg", [("nan", "NaN or outside"), ("5.5", "NaN or outside"),
                                       ("-1", "NaN or outside"), ("abc", "not a number")])
def test_sts_parser_bad_scores(tmp_path, gold, msg):
    inp = _write(tmp_path, "in.txt", "a\tb\nc\td\n")
    gs = _write(tmp_path, "gs.txt", f"1\n{gold}\n")
    with pytest.raises(D.DataError, match=rf"line 2: .*{msg}"):
        D._parse_sts17(inp, gs)


def test_sts_parser_empty_sentence_and_column_count(tmp_path):
    gs = _write(tmp_path, "gs.txt", "1\n2\n")
    with pytest.raises(D.DataError, match="line 2: empty"):
        D._parse_sts17(_write(tmp_path, "a.txt", "a\tb\n   \tc\n"), gs)
    with pytest.raises(D.DataError, match="line 2: expected 2 columns, found 3"):
        D._parse_sts17(_write(tmp_path, "b.txt", "a\tb\nc\td\te\n"), gs)
    with pytest.raises(D.DataError, match="row-aligned"):
        D._parse_sts17(_write(tmp_path, "c.txt", "a\tb\n"), gs)


def test_xnli_parser_bad_label_and_columns(tmp_path):
    with pytest.raises(D.DataError, match="line 2: unknown label"):
        D._parse_xnli(_write(tmp_path, "x.tsv", "p\th\tentailment\np\th2\tmaybe\n", crlf=True))
    with pytest.raises(D.DataError, match="line 1: expected 3 columns"):
        D._parse_xnli(_write(tmp_path, "y.tsv", "p\th\n"))


def test_semrel_parser(tmp_path):
    ok = _write(tmp_path, "ok.csv", 'PairID,Text,Score\nA-1,"جملة\n أخرى",0.5\n', bom=True, crlf=True)
    cols = D._parse_semrel(ok)
    assert cols == {"sentence1": ["جملة"], "sentence2": [" أخرى"], "score": [0.5]}
    with pytest.raises(D.DataError, match="outside"):
        D._parse_semrel(_write(tmp_path, "s.csv", 'PairID,Text,Score\nA-1,"a\nb",1.5\n'))
    with pytest.raises(D.DataError, match="NaN"):
        D._parse_semrel(_write(tmp_path, "n.csv", 'PairID,Text,Score\nA-1,"a\nb",nan\n'))
    with pytest.raises(D.DataError, match="exactly two"):
        D._parse_semrel(_write(tmp_path, "t.csv", 'PairID,Text,Score\nA-1,"a b",0.5\n'))
    with pytest.raises(D.DataError, match="expected header"):
        D._parse_semrel(_write(tmp_path, "h.csv", 'ID,Text,Score\nA-1,"a\nb",0.5\n'))


def test_stsb_parser_handles_pandas_quoting(tmp_path):
    head = "\t".join(D._STSB_HEADER)
    p = _write(tmp_path, "s.tsv", f'{head}\n0\t2.5\t"قال ""لا""."\tب\t"said ""no""."\tb\n')
    cols = D._parse_stsb(p)
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
    with pytest.raises(D.DataError, match=r"stsb_test_ar_googlemt\.tsv line 6: score '7\.0'"):
        D.load_eval_set("stsb-ar-mt")


# ------------------------------------------------------------------ Hub (offline)

@pytest.mark.parametrize("name, alternative", [
    ("arabic-nli-triplet", "xnli-triplets"),
    ("mteb-sts17", "sts17-ar-ar"),
    ("mteb-sts22", "never redistributed"),
    ("mteb-sts22-v2", "never redistributed"),
    ("arabic-stsb", "stsb-ar-scored"),
])
def test_hub_offline_fails_fast(monkeypatch, name, alternative):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.monotonic()
    with pytest.raises(D.DataError, match=re.escape(alternative)):
        D.load_hub_dataset(name)
    assert time.monotonic() - t < 10


def test_hub_registry():
    assert D.HUB_DATASETS["mteb-sts17"] == (
        "mteb/sts17-crosslingual-sts", "faeb762787bd10488a50c8b5be4a3b82e411949c", "ar-ar", "test")
    assert D.HUB_DATASETS["mteb-sts22"][1].startswith("de9d86b3")
    assert D.HUB_DATASETS["mteb-sts22-v2"][1].startswith("d31f33a1")
    assert set(D.HUB_DATASETS) == {"arabic-nli-triplet", "arabic-nli-pair-class", "arabic-stsb",
                                   "mteb-sts17", "mteb-sts22", "mteb-sts22-v2"}


def test_hub_online_path_normalises_and_filters(monkeypatch, held_out):
    """The online branch, with the Hub replaced by in-memory data."""
    import datasets
    planted = D.load_eval_set("sts17-ar-ar")["sentence2"][0]
    fake = {
        "mteb-sts17": {"sentence1": ["a", "b"], "sentence2": ["c", "d"], "score": [0.0, 5.0]},
        "mteb-sts22": {"sentence1": ["a", "b"], "sentence2": ["c", "d"], "score": [1.0, 4.0]},
        "arabic-stsb": {"sentence1": ["a"], "sentence2": ["c"], "score": [0.76]},
        "arabic-nli-triplet": {"anchor": ["a", planted], "positive": ["b", "x"], "negative": ["c", "y"]},
        # a near copy (final full stop) of an STS17 sentence as one hypothesis of a premise block:
        # the whole block (both rows with premise "p") goes, the other premise stays
        "arabic-nli-pair-class": {"premise": ["p", "p", "q"], "hypothesis": [planted + ".", "h2", "h3"],
                                  "label": [0, 2, 1]},
    }
    calls = []

    def fake_load(repo, config, revision, split):
        calls.append((repo, revision, config, split))
        name = next(k for k, v in D.HUB_DATASETS.items() if v[0] == repo and v[1] == revision)
        return datasets.Dataset.from_dict(fake[name])

    monkeypatch.setattr(D, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(D.datasets, "load_dataset", fake_load)
    assert D.load_hub_dataset("mteb-sts17")["score"] == [0.0, 1.0]
    assert calls[-1] == D.HUB_DATASETS["mteb-sts17"]
    assert D.load_hub_dataset("mteb-sts22")["score"] == [0.0, 1.0]
    assert D.load_hub_dataset("arabic-stsb")["score"] == pytest.approx([0.76])
    trip, dropped = D.loaded_hub_dataset("arabic-nli-triplet")
    assert trip["anchor"] == ["a"] and dropped == {"eval_overlap": 1, "near_copy_group": 0}
    pairs, dropped = D.loaded_hub_dataset("arabic-nli-pair-class")
    assert pairs["premise"] == ["q"] and dropped == {"eval_overlap": 0, "near_copy_group": 2}
    kept, dropped = D.loaded_hub_dataset("arabic-nli-pair-class", drop_eval_overlap=False)
    assert len(kept) == 3 and dropped == {}
    assert D.loaded_hub_dataset("mteb-sts17").dropped == {}  # evaluation sets are never filtered


def test_named_sets_drop_rows_shared_with_dev_sets():
    """A profile's training data must not contain its dev sentences either (stsb-ar-mt)."""
    train, dropped = D.loaded_sets(["sick-entailment"], held_out=["stsb-ar-mt"])["sick-entailment"]
    assert D.find_overlap(train, D._held_out_sentences(["stsb-ar-mt"])) == []
    assert dropped["held_out_overlap"] >= 1
    assert D.load_named_sets(["sick-entailment"], held_out=["stsb-ar-mt"])["sick-entailment"]["anchor"] == train["anchor"]
    assert "held_out_overlap" not in D.loaded_sets(["sick-entailment"])["sick-entailment"].dropped
    assert len(train) < len(D.load_train_set("sick-entailment"))
    report = D.overlap_report(["sick-entailment", "xnli-triplets"], ["sts17-ar-ar", "stsb-ar-mt"])
    assert report.overlapping_rows.tolist() == [0, 0]


def test_english_originals_are_the_same_rows_in_english():
    ar, en = D.load_train_set("xnli-triplets"), D.load_train_set("xnli-triplets-en")
    assert len(ar) == len(en) and en[0]["anchor"] == "And he said, Mama, I'm home."
    assert en[0]["positive"] == "He told his mom he had gotten home."  # entailment, as in Arabic row 0
    sick = D.load_train_set("sick-entailment-en")
    assert all(s.isascii() for c in ("anchor", "positive") for s in sick[c])
    assert not D.find_overlap(sick, D.eval_sentences())


# ------------------------------------------------------------------ decontamination of the grouped corpora

@pytest.mark.parametrize("name, groups, columns", [
    pytest.param("flickr30k-pairs", 1796, ("anchor", "positive"), marks=CAPTION_SCALE),  # of 29,000 train images
    ("xnli-test-triplets", 2, ("anchor", "positive", "negative")),  # premise blocks
])
def test_corpora_drop_whole_groups_with_a_near_copy(name, groups, columns):
    from gatelib.decontamination import normalize_for_matching

    near = D.nearest_held_out(name)
    flagged = set(near.group[near.similarity >= D.DECONTAMINATION["lexical"]])
    assert len(flagged) == groups
    ds, dropped = D.loaded_train_set(name)
    assert dropped["near_copy_group"] == groups
    copies = set(near.text[near.similarity >= D.DECONTAMINATION["lexical"]])
    kept = {normalize_for_matching(t) for c in columns for t in ds[c]}
    assert not kept & {normalize_for_matching(t) for t in copies}  # no copy survives
    if name.startswith("flickr30k"):  # the near copy the exact filter missed: a final full stop apart
        assert near.similarity.max() == pytest.approx(1.0, abs=1e-5)



def test_embedding_rule_drops_the_whole_group_and_refuses_a_stale_table(monkeypatch):
    """A group the committed embedding table puts at >= DECONTAMINATION["semantic"] goes whole; a
    table measured on other texts is refused with the command that remeasures it."""
    name = "xnli-test-triplets"
    ds, dropped = D.loaded_train_set(name)
    near = D.nearest_held_out(name)
    lexical, semantic = D.near_copy_groups(name)
    target = next(g for g in near.group if g not in lexical | semantic)
    texts = set(near.text[near.group == target])
    measured = D.embedding_near_copies(name)
    planted = pd.concat([measured, pd.DataFrame({"set": [name], "group": [repr(target)], "text": [sorted(texts)[0]],
                                                 "lexical": [0.1], "similarity": [0.99], "nearest": ["x"]})])
    monkeypatch.setattr(D, "embedding_near_copies", lambda n: planted if n == name else measured)
    ds2, dropped2 = D.loaded_train_set(name)
    lost = len(ds) - len(ds2)
    assert lost > 0 and dropped2["embedding_near_copy_group"] == dropped["embedding_near_copy_group"] + lost
    assert not texts & set(ds2["anchor"]) and dropped2["near_copy_group"] == dropped["near_copy_group"]
    monkeypatch.undo()
    monkeypatch.setattr(D, "rule_texts_sha256", lambda n: "0" * 64)
    with pytest.raises(D.DataError, match="gatelib.near_copies"):
        D.embedding_near_copies(name)


def test_decontaminated_bundled_set_drops_the_rows_with_a_near_copy():
    """``<set>-decontaminated`` = the bundled set minus every row with a text at cosine >= the rule's
    threshold to an evaluation or dev sentence: the row «مجموعة من الناس على الشاطئ» (STS17 has it
    with a final full stop) is among those SICK loses; the rows kept and the rows dropped add up."""
    from gatelib.decontamination import lexical_nearest

    (plain, exact), (clean, dropped) = (D.loaded_train_set("sick-entailment"),
                                        D.loaded_train_set("sick-entailment-decontaminated"))
    # exact copies are near copies too: the rule drops them before the exact-match filter sees them
    assert dropped["near_copy_row"] > exact["eval_overlap"] and dropped["eval_overlap"] == 0
    assert len(clean) == len(plain) + exact["eval_overlap"] - dropped["near_copy_row"] - dropped["embedding_near_copy_row"]
    threshold, weights = D.DECONTAMINATION["lexical"], D._rule_vectorizer("sick-entailment-decontaminated")
    texts = lambda ds: list(dict.fromkeys(list(ds["anchor"]) + list(ds["positive"])))  # noqa: E731
    kept = texts(clean)
    assert lexical_nearest(kept, D.held_out_references(), vectorizer=weights)[0].max() < threshold
    lost = set(texts(plain)) - set(kept)  # each lost text is a near copy or shares a row with one
    rows = [r for r in zip(plain["anchor"], plain["positive"]) if set(r) & lost]
    sims = lexical_nearest([t for r in rows for t in r], D.held_out_references(), vectorizer=weights)[0]
    lexical = sims.reshape(-1, 2).max(axis=1) >= threshold  # the others are near copies by meaning
    assert 0 < (~lexical).sum() <= dropped["embedding_near_copy_row"]
    assert "مجموعة من الناس على الشاطئ" in texts(plain) and "مجموعة من الناس على الشاطئ" not in kept
    assert D.data_fingerprint("sick-entailment") != D.data_fingerprint("sick-entailment-decontaminated")
    assert "sick-entailment-decontaminated" in D.TRAIN_SETS

@CAPTION_SCALE
def test_contaminated_arm_has_the_same_size_and_the_near_copies():
    clean, (dirty, dropped) = D.load_train_set("flickr30k-pairs"), D.loaded_train_set("flickr30k-pairs-contaminated")
    assert len(clean) == len(dirty) and dropped["clean_rows_swapped_out"] == 1796 + 201  # lexical + embedding
    assert len(set(dirty["anchor"]) - set(clean["anchor"])) == 1796 + 201
    assert D.find_overlap(dirty, D.eval_sentences())  # leaks by design, and is left out of the leak report
    report = D.overlap_report(["flickr30k-pairs-contaminated", "xnli-test-triplets"], ["sts17-ar-ar"])
    assert list(report["training set"]) == ["xnli-test-triplets"] and report.overlapping_rows.sum() == 0


def test_decontamination_rule_is_part_of_the_fingerprint(monkeypatch):
    before = D.data_fingerprint("flickr30k-pairs"), D.data_fingerprint("flickr30k-pairs-contaminated")
    monkeypatch.setitem(D.DECONTAMINATION, "lexical", 0.8)
    after = D.data_fingerprint("flickr30k-pairs"), D.data_fingerprint("flickr30k-pairs-contaminated")
    assert before[0] != after[0] and before[1] == after[1]
    assert set(D.files_for("flickr30k-pairs")) >= {f for n in D.EVAL_SETS for f in D.files_for(n)}


@CAPTION_SCALE
def test_nearest_training_texts_measures_each_set_and_the_unseen_caption_baseline():
    table = D.nearest_training_texts(["sick-entailment", "flickr30k-pairs"], ["sts17-ar-ar", "sts17-en-ar"])
    sts = table[table.queries == "STS17 Arabic sentences"]
    assert set(sts["training set"]) == {"sick-entailment", "flickr30k-pairs"}
    assert sts.groupby("training set").size().tolist() == [744, 744]  # distinct Arabic sentences of both tracks
    unseen = table[table.queries == "unseen-image captions"]
    assert set(unseen["training set"]) == {"flickr30k-pairs"} and len(unseen) == 10070
    clean = sts[sts["training set"] == "flickr30k-pairs"].similarity
    assert 0.6 < clean.max() < D.DECONTAMINATION["lexical"]  # measured with the rule's weights: none at or above
    assert (sts[sts["training set"] == "sick-entailment"].similarity >= 0.7).sum() == 12  # kept by the exact-match rule


def test_leaked_pairs_flags_the_test_pairs_a_training_set_nearly_copies():
    table = D.leaked_pairs("sts17-ar-ar", ["sick-entailment"])
    ds = D.load_eval_set("sts17-ar-ar")
    assert list(table.columns) == ["pair", "similarity", "leaked"] and list(table.pair) == list(range(len(ds)))
    # SICK-ar train holds «رجل يقطع السمك» without the STS17 sentence's spaced full stop
    fish = next(i for i, s in enumerate(ds["sentence1"]) if s.strip() == "رجل يقطع السمك .")
    assert table.leaked[fish] and table.similarity[fish] >= 0.8
    assert table.leaked.sum() == (table.similarity >= D.DECONTAMINATION["lexical"]).sum() < len(ds) / 10
    assert not D.leaked_pairs("sts17-ar-ar", ["sick-entailment"], threshold=1.01).leaked.any()


def test_leaked_pairs_but_not_keeps_only_the_pairs_the_other_sets_do_not_leak():
    alone = D.leaked_pairs("sts17-ar-ar", ["sick-pairs"])
    entailment = D.leaked_pairs("sts17-ar-ar", ["sick-entailment"])
    only = D.leaked_pairs("sts17-ar-ar", ["sick-pairs"], but_not=["sick-entailment"])
    assert list(only.similarity) == list(alone.similarity)
    assert list(only.leaked) == list(alone.leaked & ~entailment.leaked)
    assert 0 < only.leaked.sum() < alone.leaked.sum()


def test_embedding_only_near_copies_are_below_the_lexical_and_above_the_embedding_threshold():
    table = D.embedding_only_near_copies(D.NEAR_COPY_SETS, n=5, max_chars=40)
    assert len(table) == 5 and (table["TF-IDF"] < D.DECONTAMINATION["lexical"]).all()
    assert (table["embedding"] >= D.DECONTAMINATION["semantic"]).all() and table["embedding"].is_monotonic_decreasing
    assert table["training text"].map(len).max() <= 41 and table["training text"].is_unique
    assert D.embedding_only_near_copies(["xnli-test-triplets"]).empty  # the rule drops nothing there
