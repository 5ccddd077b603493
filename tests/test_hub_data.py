"""Tests for gatelib.hub_data: offline it fails fast naming the bundled alternative; online (faked) it
normalises scores and applies the leak rules."""
from __future__ import annotations

import re
import time

import pytest

from gatelib import evalsets, hub_data as H
from gatelib.datafiles import DataError


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
    with pytest.raises(DataError, match=re.escape(alternative)):
        H.load_hub_dataset(name)
    assert time.monotonic() - t < 10


def test_hub_registry():
    assert H.HUB_DATASETS["mteb-sts17"] == (
        "mteb/sts17-crosslingual-sts", "faeb762787bd10488a50c8b5be4a3b82e411949c", "ar-ar", "test")
    assert H.HUB_DATASETS["mteb-sts22"][1].startswith("de9d86b3")
    assert H.HUB_DATASETS["mteb-sts22-v2"][1].startswith("d31f33a1")
    assert set(H.HUB_DATASETS) == {"arabic-nli-triplet", "arabic-nli-pair-class", "arabic-stsb",
                                   "mteb-sts17", "mteb-sts22", "mteb-sts22-v2"}


def test_hub_online_path_normalises_and_filters(monkeypatch):
    """The online branch, with the Hub replaced by in-memory data."""
    import datasets
    planted = evalsets.load_eval_set("sts17-ar-ar")["sentence2"][0]
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
        name = next(k for k, v in H.HUB_DATASETS.items() if v[0] == repo and v[1] == revision)
        return datasets.Dataset.from_dict(fake[name])

    monkeypatch.setattr(H, "hub_reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(H.datasets, "load_dataset", fake_load)
    assert H.load_hub_dataset("mteb-sts17")["score"] == [0.0, 1.0]
    assert calls[-1] == H.HUB_DATASETS["mteb-sts17"]
    assert H.load_hub_dataset("mteb-sts22")["score"] == [0.0, 1.0]
    assert H.load_hub_dataset("arabic-stsb")["score"] == pytest.approx([0.76])
    trip, dropped = H.loaded_hub_dataset("arabic-nli-triplet")
    assert trip["anchor"] == ["a"] and dropped == {"eval_overlap": 1, "near_copy_group": 0}
    pairs, dropped = H.loaded_hub_dataset("arabic-nli-pair-class")
    assert pairs["premise"] == ["q"] and dropped == {"eval_overlap": 0, "near_copy_group": 2}
    kept, dropped = H.loaded_hub_dataset("arabic-nli-pair-class", drop_eval_overlap=False)
    assert len(kept) == 3 and dropped == {}
    assert H.loaded_hub_dataset("mteb-sts17").dropped == {}  # evaluation sets are never filtered
