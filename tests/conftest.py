"""Shared fixtures: a tiny randomly initialised encoder for fast, offline training tests, and copies
of the vendored data for the data modules' failure-mode tests."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import pandas as pd
from datasets import Dataset


def build_tiny_encoder(folder, dropout=0.1):
    """A 2-layer, 32-dim BERT with a word-level tokenizer over a small vocabulary, saved as a
    sentence-transformers folder (safetensors). Enough to exercise losses and the trainer.
    ``dropout=0`` makes a training step independent of the random stream (for comparing runs
    split over processes with one-process runs)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
    import torch

    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + [f"w{i}" for i in range(60)]
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(words), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64,
                        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    raw = folder / "raw"
    BertModel(config, add_pooling_layer=False).save_pretrained(raw)
    fast.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=32)
    model = SentenceTransformer(modules=[transformer, Pooling(32, "mean"), Normalize()], device="cpu")
    model.save(str(folder / "st"))
    return folder / "st"


@pytest.fixture(scope="session")
def e5_model():
    """The bundled multilingual-e5-small from the default cache (built on first use)."""
    from gatelib.models import BUNDLED_E5, load_base_model

    return load_base_model(BUNDLED_E5, device="cpu")


@pytest.fixture(scope="session")
def tiny_encoder_path(tmp_path_factory):
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny"))


def toy_sentences(n, offset=0):
    return [" ".join(f"w{(i * 7 + k + offset) % 60}" for k in range(4)) for i in range(n)]


@pytest.fixture
def toy_triplets():
    anchors = toy_sentences(48)
    return Dataset.from_dict({"anchor": anchors,
                              "positive": [a + " w1" for a in anchors],
                              "negative": toy_sentences(48, offset=3)})


@pytest.fixture
def toy_sts():
    left, right = toy_sentences(40), toy_sentences(40, offset=1)
    return Dataset.from_dict({"sentence1": left, "sentence2": right,
                              "score": [(i % 6) / 5 for i in range(40)]})


@pytest.fixture
def tiny_profile(tiny_encoder_path, tmp_path, monkeypatch):
    """The smoke profile pointed at the tiny encoder, writing under a temp project root."""
    from gatelib import profiles

    monkeypatch.setattr(profiles, "PROJECT_ROOT", tmp_path)
    base = profiles.load_profile("smoke")
    recipe = dataclasses.replace(base.training, batch_size=8, max_steps=6, save_steps=2,
                                 max_seq_length=32)
    stage2 = dataclasses.replace(recipe, epochs=1, max_steps=4)
    return dataclasses.replace(base, base_model=str(tiny_encoder_path), matryoshka_dims=(32, 16, 8),
                               training=recipe, stage2=stage2, device="cpu", train_sets=("t",),
                               parallel_sets=("par",), stage2_sets=("nli", "sts"))


@pytest.fixture
def toy_parallel():
    return Dataset.from_dict({"english": toy_sentences(40), "arabic": toy_sentences(40, offset=2)})


@pytest.fixture
def toy_nli():
    return Dataset.from_dict({"premise": toy_sentences(40), "hypothesis": toy_sentences(40, offset=5),
                              "label": [i % 3 for i in range(40)]})


DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(autouse=True)
def _default_data_dir(monkeypatch):
    """Every test reads the repository's data/ unless it points GATELIB_DATA_DIR elsewhere itself."""
    monkeypatch.delenv("GATELIB_DATA_DIR", raising=False)


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A writable copy of data/ that the loaders read (for corrupting files on purpose)."""
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    monkeypatch.setenv("GATELIB_DATA_DIR", str(dst))
    return dst


def write_file(tmp_path, name, text, *, bom=False, crlf=False) -> Path:
    """``tmp_path/name`` holding ``text`` in UTF-8, optionally with a BOM and CRLF line ends."""
    if crlf:
        text = text.replace("\n", "\r\n")
    p = tmp_path / name
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return p


@pytest.fixture
def two_seed_scores():
    """Scores of zero-shot and mrl, two seeds each, at 384 and 64 dims on STS17 (reporting tests)."""
    rows = []
    for config, base in [("zero-shot", 70.0), ("mrl", 75.0)]:
        for seed in (0, 1):
            for dim, drop in [(384, 0.0), (64, 5.0)]:
                value = base - drop * (1.0 if config == "zero-shot" else 0.2) + seed
                rows.append({"profile": "t", "config": config, "seed": seed, "task": "sts17-ar-ar",
                             "dim": dim, "spearman_cosine": value, "pearson_cosine": value,
                             "commit": "abc", "data_checksum": "d", "hardware": "cpu"})
    return pd.DataFrame(rows)
