"""Tests for gatelib.data: training sets as a run loads them (counts, leak-freedom, near copies), the
fingerprint and failure modes (fast)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from gatelib import data as D
from gatelib import evalsets as E
from gatelib.datafiles import DataError

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def held_out() -> set[str]:
    return E.eval_sentences()


# ------------------------------------------------------------------ fingerprint

def test_fingerprint_is_stable_and_sensitive():
    fp = D.data_fingerprint(["sts17-ar-ar"])
    assert re.fullmatch(r"[0-9a-f]{12}", fp)
    assert fp == D.data_fingerprint("sts17-ar-ar")
    assert fp != D.data_fingerprint(["sts17-en-ar"])
    # training sets depend on the held-out files read by the leak filter
    assert set(D.files_for("xnli-pairs")) >= set(D.files_for("sts17-ar-ar"))


# ------------------------------------------------------------------ counts & values

TRAIN_ROWS = {  # after de-duplication and leak filtering
    "xnli-triplets": 830, "xnli-pairs": 2490, "xnli-parallel": 6679, "xnli-dev-parallel": 3320, "sick-parallel": 5146, "q2q-pairs": 4860,
    "q2q-triplets": 4124, "sick-pairs": 3847, "sick-nli": 3847, "sick-entailment": 1019, "stsb-ar-scored": 1376,
    "semrel-arq-train": 1068, "semrel-ary-train": 653, "xnli-triplets-en": 830, "sick-entailment-en": 1088,
    # grouped corpora, decontaminated (gatelib.corpora): whole groups with a near copy dropped
    "flickr30k-pairs": 27003, "xnli-test-triplets": 1668, "xnli-test-pairs": 5000, "dial2msa-pairs": 12334,
    "dial2msa-msa-pairs": 6843,
}


def test_registries_cover_counts():
    assert set(D.TRAIN_SETS) == set(TRAIN_ROWS) | set(D.CONTAMINATED_SETS) | set(D.DECONTAMINATED_SETS)
    assert D.CONTAMINATED_SETS == ("flickr30k-pairs-contaminated",)
    assert set(E.EVAL_SETS_TEST) <= set(E.EVAL_SETS) | set(E.RETRIEVAL_SETS)


def test_q2q_test_split_is_whole_components_and_never_trained_on(monkeypatch):
    test = E.load_eval_set("q2q-test")
    assert test.column_names == ["sentence1", "sentence2", "label"]
    assert (len(test), sum(test["label"])) == (1215, 530)  # ~10 % of the 11,997 labelled pairs
    held = {q for c in ("sentence1", "sentence2") for q in test[c]}
    train_rows, _ = E._q2q_split(E._parse_q2q(DATA / "nsurl2019_q2q/train.csv"))
    assert len(train_rows) + len(test) == 11997
    assert not held & {q for _, q1, q2, _ in train_rows for q in (q1, q2)}  # whole components
    for name in ("q2q-pairs", "q2q-triplets"):  # plus near-duplicates across components
        ds = D.load_train_set(name)
        assert not E.find_overlap(ds, E.eval_sentences("q2q-test"))
    assert "q2q-test" in E.EVAL_SETS_TEST and "q2q-test" not in E.EVAL_SETS
    before = D.data_fingerprint("q2q-pairs"), D.data_fingerprint("xnli-pairs"), D.data_fingerprint("sts17-ar-ar")
    monkeypatch.setattr(E, "Q2Q_TEST_RULE", "another split")  # the split rule is part of the fingerprint
    after = D.data_fingerprint("q2q-pairs"), D.data_fingerprint("xnli-pairs"), D.data_fingerprint("sts17-ar-ar")
    assert before[0] != after[0] and before[1] != after[1] and before[2] == after[2]


#: Checks that decontaminate the 155k Flickr30k captions (about a minute on 2 cores) run in the slow
#: suite (``pytest -m slow``); the same code is checked on the smaller grouped corpora here.
CAPTION_SCALE = pytest.mark.slow


@pytest.mark.parametrize("name", [pytest.param(n, marks=CAPTION_SCALE) if n.startswith("flickr30k") else n
                                  for n in TRAIN_ROWS])
def test_train_sets_counts_values_and_no_overlap(name, held_out):
    ds, dropped = D.loaded_train_set(name)
    assert len(ds) == TRAIN_ROWS[name]
    assert E.find_overlap(ds, held_out) == []  # THE key check: nothing from the held-out tests
    E.assert_no_overlap(ds, held_out)
    for c in E._string_columns(ds):
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
    assert len(raw) == 924 and E.find_overlap(raw, E.eval_sentences(["semrel-ary-test"]))


# ------------------------------------------------------------------ leak checker can fail


# ------------------------------------------------------------------ failure modes


def test_corrupt_file_raises_sha256(data_copy):
    p = data_copy / "sts17/STS.gs.track1.ar-ar.txt"
    b = bytearray(p.read_bytes())
    b[0] ^= 0x01
    p.write_bytes(bytes(b))
    with pytest.raises(DataError, match=r"sha256.*checksums\.json.*git checkout data/"):
        E.load_eval_set("sts17-ar-ar")
    with pytest.raises(DataError, match="sha256"):
        D.load_train_set("xnli-pairs")  # the leak filter reads STS17 too


def test_missing_file_raises(data_copy):
    (data_copy / "xnli_ar/dev-ar.tsv").unlink()
    with pytest.raises(DataError, match=r"xnli_ar/dev-ar\.tsv.*missing"):
        D.load_train_set("xnli-triplets")


def test_unknown_name_raises():
    with pytest.raises(DataError, match="unknown"):
        E.load_eval_set("sts22-ar")
    with pytest.raises(DataError, match="unknown"):
        D.load_train_set("sts17-ar-ar")


# ------------------------------------------------------------------ Hub (offline)


def test_named_sets_drop_rows_shared_with_dev_sets():
    """A profile's training data must not contain its dev sentences either (stsb-ar-mt)."""
    train, dropped = D.loaded_sets(["sick-entailment"], held_out=["stsb-ar-mt"])["sick-entailment"]
    assert E.find_overlap(train, D._held_out_sentences(["stsb-ar-mt"])) == []
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
    assert not E.find_overlap(sick, E.eval_sentences())


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
    with pytest.raises(DataError, match="gatelib.near_copies"):
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
    assert lexical_nearest(kept, E.held_out_references(), vectorizer=weights)[0].max() < threshold
    lost = set(texts(plain)) - set(kept)  # each lost text is a near copy or shares a row with one
    rows = [r for r in zip(plain["anchor"], plain["positive"]) if set(r) & lost]
    sims = lexical_nearest([t for r in rows for t in r], E.held_out_references(), vectorizer=weights)[0]
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
    assert E.find_overlap(dirty, E.eval_sentences())  # leaks by design, and is left out of the leak report
    report = D.overlap_report(["flickr30k-pairs-contaminated", "xnli-test-triplets"], ["sts17-ar-ar"])
    assert list(report["training set"]) == ["xnli-test-triplets"] and report.overlapping_rows.sum() == 0


def test_decontamination_rule_is_part_of_the_fingerprint(monkeypatch):
    before = D.data_fingerprint("flickr30k-pairs"), D.data_fingerprint("flickr30k-pairs-contaminated")
    monkeypatch.setitem(D.DECONTAMINATION, "lexical", 0.8)
    after = D.data_fingerprint("flickr30k-pairs"), D.data_fingerprint("flickr30k-pairs-contaminated")
    assert before[0] != after[0] and before[1] == after[1]
    assert set(D.files_for("flickr30k-pairs")) >= {f for n in E.EVAL_SETS for f in D.files_for(n)}


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
    ds = E.load_eval_set("sts17-ar-ar")
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
