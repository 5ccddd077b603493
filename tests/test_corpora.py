"""Tests for gatelib.corpora: the grouped corpora parse to the documented rows, and the XNLI label
transfer and the Dial2MSA reader refuse what they should."""
from __future__ import annotations

import gzip

import pytest

from gatelib import corpora as C
from gatelib.datafiles import DataError, _verified_path


def _load(name):
    files, loader = C.CORPORA[name]
    return loader([_verified_path(f) for f in files])


def test_flickr30k_one_pair_per_train_image_and_no_val_test_image():
    corpus = _load("flickr30k-pairs")
    assert len(corpus.groups) == len(set(corpus.groups)) == 29000  # one pair per train image
    assert all(len(corpus.group_texts[g]) >= 5 for g in corpus.groups)  # all captions checked, not only the pair
    assert all(a != p for a, p in zip(corpus.columns["anchor"], corpus.columns["positive"]))
    held = C.flickr30k_test_images(_verified_path(C.FLICKR_FILE))
    assert len(held) == 2014 and sum(map(len, held.values())) == 10070
    assert not {image for _, image in corpus.groups} & set(held)  # Flickr30k val/test never trained on


def test_xnli_test_labels_transfer_to_balanced_blocks():
    triplets, pairs = _load("xnli-test-triplets"), _load("xnli-test-pairs")
    assert len(triplets.groups) == 1670 and len(pairs.groups) == 5006
    assert pairs.dropped == {"conflicting_labels": 4}  # one Arabic sentence for two labels, twice
    assert [pairs.columns["label"].count(k) for k in (0, 1, 2)] == [1668, 1668, 1670]
    by_pair = dict(zip(zip(pairs.columns["premise"], pairs.columns["hypothesis"]), pairs.columns["label"]))
    for a, p, n in zip(*(triplets.columns[c] for c in ("anchor", "positive", "negative"))):
        assert by_pair.get((a, p), 0) == 0 and by_pair[(a, n)] == 2


def _xnli_rows():
    arabic = [tuple(line.rstrip("\r\n").split("\t")) for line in
              _verified_path("xnli_ar/test-ar.tsv").read_text(encoding="utf-8").splitlines()]
    german = [tuple(line.split("\t")) for line in
              gzip.decompress(_verified_path(C.XNLI_TEST_LABELS).read_bytes()).decode("utf-8").splitlines()]
    return arabic, german


def test_xnli_label_transfer_refuses_misaligned_files():
    arabic, german = _xnli_rows()
    assert len(C.transfer_xnli_labels(arabic, german)) == 5010
    with pytest.raises(DataError, match="row-aligned"):
        C.transfer_xnli_labels(arabic[:-3], german)
    with pytest.raises(DataError, match="premise blocks differ"):
        C.transfer_xnli_labels(arabic[1:] + arabic[:1], german)
    shifted = german[3:] + german[:3]  # same block structure, labels and hypotheses of another block
    with pytest.raises(DataError, match="disagree"):
        C.transfer_xnli_labels(arabic, shifted)
    swapped = [(p, h, {"entailment": "neutral", "neutral": "entailment"}.get(lab, lab)) for p, h, lab in german]
    swapped[0] = (swapped[0][0], swapped[0][1], "neutral")  # block 1 now has two neutrals
    with pytest.raises(DataError, match="one entailment, one neutral"):
        C.transfer_xnli_labels(arabic, swapped)


def test_dial2msa_pairs_one_per_tweet_and_best_reference_first():
    pairs, msa = _load("dial2msa-pairs"), _load("dial2msa-msa-pairs")
    assert len(pairs.groups) == len(set(pairs.groups)) == 12335
    assert {g[1] for g in pairs.groups} == set(C.DIAL2MSA_DIALECTS)
    assert pairs.dropped == {"no_content": 0, "duplicate_reference": 33, "msa_equals_tweet": 310}
    assert len(msa.groups) == 6843 and msa.dropped["single_reference"] == 5492
    assert all(a != p for a, p in zip(msa.columns["anchor"], msa.columns["positive"]))


def test_dial2msa_counts_url_only_and_empty_tweets(tmp_path):
    path = tmp_path / "egy_train.csv.gz"
    rows = ["egytomsa:confidence,id,msa,tweet,cleanedtweet2", "1.0,1,نص فصيح,تويت,تويت عامي",
            "0.9,2,نص,https://t.co/x,https://t.co/x", "0.9,3,نص, , ", "0.8,1,نص فصيح,تويت,تويت عامي"]
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode("utf-8")))
    tweets, dropped = C._dial2msa_tweets([path])
    assert list(tweets) == [("egy", "1")] and dropped == {"no_content": 2, "duplicate_reference": 1,
                                                          "msa_equals_tweet": 0}
    path.write_bytes(gzip.compress(b"id,tweet\n1,x\n"))
    with pytest.raises(DataError, match="lacks id, msa"):
        C._dial2msa_tweets([path])
