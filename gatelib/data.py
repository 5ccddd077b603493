"""Data loading for the GATE reproduction (arXiv 2505.24581), offline first.

The paper (GATE §3.1) trains on machine-translated Arabic NLI triplets / pair-class
data and Arabic STS-B, and evaluates (§4.1) on MTEB STS17 ``ar-ar``, STS22 ``ar`` and
STS22.v2 ``ar``. Those Hub datasets cannot be reached offline, so the project vendors
real, smaller Arabic data in ``data/`` (provenance, licences and quirks in
``data/DATA.md``) and this module loads it:

* :func:`load_eval_set` -- held-out evaluation pairs (``sentence1, sentence2, score``,
  score in [0, 1]); STS17 ``ar-ar`` / ``en-ar`` are the official SemEval-2017 files that
  MTEB's STS17 task is built from.
* :func:`load_train_set` -- training sets, already de-duplicated and *leak-free*: every
  row sharing a (normalised) sentence with the held-out test sets is dropped, and the
  count is returned by :func:`loaded_train_set` and written in ``dataset.info.description``.
* :func:`load_hub_dataset` -- the paper's own Hub datasets when online (Colab); offline
  it fails fast with a :class:`DataError` that names the bundled alternative.

Every bundled file is checked against ``data/checksums.json`` (sha256) before parsing.
All failures raise one exception type, :class:`DataError`, saying what is wrong, where
(file and row) and how to fix it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import datasets
import numpy as np
import pandas as pd

from gatelib import corpora
from gatelib.datafiles import (CHECKSUMS_FILE, DATA_DIR, DataError, _check_score, _check_text, _display,
                               _load_checksums, _read_table, _verified_path)
from gatelib.decontamination import char_vectorizer, contaminated_groups, lexical_nearest
from gatelib.hub import hub_reachable

logger = logging.getLogger(__name__)

__all__ = [
    "DataError",
    "DATA_DIR",
    "EVAL_SETS",
    "EVAL_SETS_TEST",
    "RETRIEVAL_SETS",
    "TRAIN_SETS",
    "DECONTAMINATED",
    "DECONTAMINATED_SETS",
    "HUB_DATASETS",
    "Loaded",
    "loaded_train_set",
    "loaded_sets",
    "leaked_pairs",
    "load_eval_set",
    "load_train_set",
    "load_hub_dataset",
    "eval_sentences",
    "normalize_text",
    "find_overlap",
    "assert_no_overlap",
    "data_fingerprint",
    "files_for",
    "load_peer_scores",
]


# --------------------------------------------------------------------------- registry

#: name -> files (relative to data/) backing it. Order matters for the parsers.
_EVAL_FILES: dict[str, tuple[str, ...]] = {
    "sts17-ar-ar": ("sts17/STS.input.track1.ar-ar.txt", "sts17/STS.gs.track1.ar-ar.txt"),
    "sts17-en-ar": ("sts17/STS.input.track2.ar-en.txt", "sts17/STS.gs.track2.ar-en.txt"),
    "semrel-arq-test": ("semrel2024/arq_test_with_labels.csv",),
    "semrel-ary-test": ("semrel2024/ary_test_with_labels.csv",),
    "semrel-arq-dev": ("semrel2024/arq_dev_with_labels.csv",),
    "semrel-ary-dev": ("semrel2024/ary_dev_with_labels.csv",),
    "semrel-arb-dev": ("semrel2024/arb_dev_with_labels.csv",),
    "stsb-ar-mt": ("stsb_ar_mt/stsb_test_ar_googlemt.tsv",),
    "q2q-test": ("nsurl2019_q2q/train.csv",),
}
_SICK_FILES = ("sick_ar/train_nli.csv", "sick_ar/valid_nli.csv", "sick_ar/test_nli.csv")
#: name -> files (relative to data/) of each bundled training set; its loader is in :data:`_TRAIN_LOADERS`.
_TRAIN_FILES: dict[str, tuple[str, ...]] = {
    "xnli-triplets": ("xnli_ar/dev-ar.tsv",),
    "xnli-pairs": ("xnli_ar/dev-ar.tsv",),
    "xnli-triplets-en": ("xnli_ar/dev-en.tsv",),
    "xnli-parallel": ("xnli_ar/test-en.tsv", "xnli_ar/test-ar.tsv"),
    "xnli-dev-parallel": ("xnli_ar/dev-en.tsv", "xnli_ar/dev-ar.tsv"),
    "sick-parallel": _SICK_FILES,
    "q2q-pairs": ("nsurl2019_q2q/train.csv",),
    "q2q-triplets": ("nsurl2019_q2q/train.csv",),
    "sick-pairs": _SICK_FILES,
    "sick-nli": _SICK_FILES,
    "sick-entailment": _SICK_FILES,
    "sick-entailment-en": _SICK_FILES,
    "stsb-ar-scored": ("stsb_ar_mt/stsb_test_ar_googlemt.tsv",),
    "semrel-arq-train": ("semrel2024/arq_train.csv",),
    "semrel-ary-train": ("semrel2024/ary_train.csv",),
}

#: Paraphrase-retrieval test sets (labelled question pairs, not scored STS pairs): ``q2q-test``.
RETRIEVAL_SETS: tuple[str, ...] = ("q2q-test",)
#: STS evaluation sets for :func:`load_eval_set`. ``stsb-ar-mt`` and the SemRel dev sets are
#: development / extra evaluation only; the held-out tests are :data:`EVAL_SETS_TEST`.
EVAL_SETS: tuple[str, ...] = tuple(n for n in _EVAL_FILES if n not in RETRIEVAL_SETS)
#: In-domain retrieval test of the caption corpus: every caption of Flickr30k's val and test images
#: (2,014 images, 10,070 captions) retrieves the other captions of its image. Its split is Flickr30k's
#: own, by image; it is not in :data:`EVAL_SETS_TEST` or the near-copy references, because captions are
#: formulaic: a near-copy rule against unseen images' captions would drop a fifth of the training images.
CAPTION_RETRIEVAL_SETS: tuple[str, ...] = ("flickr30k-test",)
#: Held-out test sets: no training set may share a sentence with them.
EVAL_SETS_TEST: tuple[str, ...] = ("sts17-ar-ar", "sts17-en-ar", "semrel-arq-test", "semrel-ary-test",
                                   *RETRIEVAL_SETS)
#: The rule that carves ``q2q-test`` out of the Q2Q file (part of every data fingerprint that reads it).
Q2Q_TEST_RULE = "q2q-test: question components whose smallest question's sha256 is 0 mod 10"
#: Suffix of a bundled training set with the near-copy rule applied on top of the exact-match
#: filter (e.g. ``sick-entailment-decontaminated``): every row with a text at char-TF-IDF cosine
#: >= ``DECONTAMINATION["lexical"]`` to any evaluation or dev sentence is dropped. The bundled sets
#: have no groups beyond their rows, and a row holds a flagged text's paraphrases (an NLI
#: hypothesis, a question's duplicate), so the row is the group. The unsuffixed sets keep the
#: exact-match filter only, as the profiles trained before the rule existed were trained.
DECONTAMINATED = "-decontaminated"
DECONTAMINATED_SETS: tuple[str, ...] = tuple(f"{n}{DECONTAMINATED}" for n in _TRAIN_FILES)
#: Training sets for :func:`load_train_set`: the bundled sets above, their decontaminated twins, and
#: the grouped corpora of ``gatelib.corpora`` (Flickr30k captions, XNLI test triplets, Dial2MSA).
TRAIN_SETS: tuple[str, ...] = (*_TRAIN_FILES, *DECONTAMINATED_SETS, *corpora.CORPORA)
#: Corpora trained on *without* decontamination: the contaminated arm of the contamination
#: experiment, and nothing else. Every other training set is filtered.
CONTAMINATED_SETS: tuple[str, ...] = tuple(n for n in corpora.CORPORA if n.endswith("-contaminated"))
#: The sets the near-copy rule measures (the contaminated arms read their clean twin's measurement).
NEAR_COPY_SETS: tuple[str, ...] = (*(n for n in corpora.CORPORA if n not in CONTAMINATED_SETS), *DECONTAMINATED_SETS)
#: Near-copy rule for the grouped corpora (``gatelib.decontamination``): a group (an image's
#: captions, an XNLI premise block, a tweet and its references) is dropped whole if any of its
#: texts has char 3-5-gram TF-IDF cosine >= ``lexical`` to any evaluation or dev sentence
#: (:data:`EVAL_SETS` and :data:`RETRIEVAL_SETS`), after ``normalize_for_matching``. 0.7 is where
#: STS17's sentences start to sit closer to the Flickr30k training captions than captions of
#: unseen Flickr30k images do (data chapter), and where a caption starts to contain a test
#: sentence whole («الناس ينتظرون في منطقة الراحة» for «الناس ينتظرون»). ``semantic``: the same for
#: the cosine of the untrained base model's embeddings (``gatelib.near_copies`` measures it once and
#: commits it to :data:`NEAR_COPY_FILES`). The base model puts nearly every caption pair between 0.90
#: and 1.0, so only the top of that band tells a copy: at 0.98 a matched pair is the same sentence up
#: to inflection, word order or one word («امرأة تلعب التنس وضرب الكرة» for «امرأة تلعب التنس وتضرب
#: الكرة», TF-IDF 0.62), and with both rules STS17's sentences come no closer to the training
#: captions than captions of unseen images do from there up (data chapter).
DECONTAMINATION: dict[str, float] = {"lexical": 0.7, "semantic": 0.98}
#: The rule in words, for dataset descriptions.
_RULE = (f"char-TF-IDF cosine >= {DECONTAMINATION['lexical']} or base-model embedding cosine >= "
         f"{DECONTAMINATION['semantic']}")
#: The committed embedding measurement: the table, what it was measured with, and its null distribution.
NEAR_COPY_FILES: tuple[str, ...] = ("near_copies/embedding_nearest.csv.gz", "near_copies/embedding_nearest.json",
                                    "near_copies/embedding_null.csv")



class Loaded(NamedTuple):
    """A set as loaded: its rows, and how many rows were dropped from it, by reason.

    Reasons: ``duplicates``, ``sick_valid_test_leak``, ``no_hard_negative`` (q2q-triplets),
    ``eval_overlap`` (shares a normalised sentence with :data:`EVAL_SETS_TEST`),
    ``held_out_overlap`` (with a dev set the profile evaluates on), and the grouped corpora's own
    (``near_copy_group``, ``empty``, …, ``gatelib.corpora``). Evaluation sets drop nothing here.
    """

    dataset: datasets.Dataset
    dropped: dict[str, int]


def files_for(name: str) -> tuple[str, ...]:
    """Files (relative to data/) that determine the content of eval/train set ``name``.

    For training sets this includes the held-out test files, because the leak filter
    reads them.
    """
    if name in _EVAL_FILES:
        return _EVAL_FILES[name]
    if name in CAPTION_RETRIEVAL_SETS:
        return (corpora.FLICKR_FILE,)
    if name in _TRAIN_FILES:
        test_files = tuple(f for t in EVAL_SETS_TEST for f in _EVAL_FILES[t])
        return _TRAIN_FILES[name] + tuple(f for f in test_files if f not in _TRAIN_FILES[name])
    if name in corpora.CORPUS_FILES or name in DECONTAMINATED_SETS:  # checked against every evaluation and dev set
        own = corpora.CORPUS_FILES.get(name) or _TRAIN_FILES[name.removesuffix(DECONTAMINATED)]
        rule = NEAR_COPY_FILES[:2] if name not in CONTAMINATED_SETS else ()
        return own + tuple(dict.fromkeys(f for files in _EVAL_FILES.values() for f in files if f not in own)) + rule
    raise DataError(f"unknown dataset {name!r}; choose one of {EVAL_SETS + TRAIN_SETS}")


def _parse_sts17(input_path: Path, gs_path: Path) -> dict[str, list]:
    """Official STS 2017 files: ``sent1<TAB>sent2`` + one gold score (0-5) per line.

    Sentences are kept exactly as in the official files (some carry leading/trailing
    spaces); only a trailing CR is removed. Scores are returned divided by 5.
    """
    pairs = _read_table(input_path, ncols=2)
    gold = _read_table(gs_path, ncols=1)
    if len(pairs) != len(gold):
        raise DataError(f"{_display(input_path)} has {len(pairs)} pairs but {_display(gs_path)} "
                        f"has {len(gold)} scores; the two files must be row-aligned")
    out = {"sentence1": [], "sentence2": [], "score": []}
    for (ln, (s1, s2)), (gl, (g,)) in zip(pairs, gold):
        out["sentence1"].append(_check_text(s1, input_path, ln, "sentence1"))
        out["sentence2"].append(_check_text(s2, input_path, ln, "sentence2"))
        out["score"].append(_check_score(g, gs_path, gl, 0.0, 5.0) / 5.0)
    return out


def _parse_semrel(path: Path) -> dict[str, list]:
    """SemRel 2024 CSV ``PairID,Text,Score``: the two sentences share one quoted field,
    separated by a newline; score is relatedness in [0, 1]."""
    rows = _read_table(path, ncols=3, sep=",", quoted=True, header=("PairID", "Text", "Score"))
    out = {"sentence1": [], "sentence2": [], "score": []}
    for ln, (pid, text, score) in rows:
        parts = text.split("\n")
        if len(parts) != 2:
            raise DataError(f"{_display(path)} line {ln} ({pid}): Text must hold exactly two "
                            f"sentences separated by one newline, found {len(parts)} parts")
        out["sentence1"].append(_check_text(parts[0], path, ln, "sentence1"))
        out["sentence2"].append(_check_text(parts[1], path, ln, "sentence2"))
        out["score"].append(_check_score(score, path, ln, 0.0, 1.0))
    return out


_STSB_HEADER = ("stsb_test_index", "score", "sentence1", "sentence2", "sentence1_en", "sentence2_en")


def _parse_stsb(path: Path) -> dict[str, list]:
    """STS-B test MT TSV (pandas export: fields with ``"`` are quoted). Score 0-5 -> /5."""
    rows = _read_table(path, ncols=6, quoted=True, header=_STSB_HEADER)
    out = {"sentence1": [], "sentence2": [], "score": []}
    for ln, (_idx, score, s1, s2, _e1, _e2) in rows:
        out["sentence1"].append(_check_text(s1, path, ln, "sentence1"))
        out["sentence2"].append(_check_text(s2, path, ln, "sentence2"))
        out["score"].append(_check_score(score, path, ln, 0.0, 5.0) / 5.0)
    return out


_XNLI_LABELS = {"entailment": 0, "neutral": 1, "contradiction": 2}


def _parse_xnli(path: Path) -> dict[str, list]:
    """XTREME XNLI TSV ``premise<TAB>hypothesis<TAB>label`` (no quoting, CRLF)."""
    rows = _read_table(path, ncols=3)
    out = {"premise": [], "hypothesis": [], "label": []}
    for ln, (p, h, lab) in rows:
        if lab not in _XNLI_LABELS:
            raise DataError(f"{_display(path)} line {ln}: unknown label {lab!r}; "
                            f"expected one of {sorted(_XNLI_LABELS)}")
        out["premise"].append(_check_text(p, path, ln, "premise"))
        out["hypothesis"].append(_check_text(h, path, ln, "hypothesis"))
        out["label"].append(_XNLI_LABELS[lab])
    return out


def _parse_xnli_unlabelled(path: Path) -> list[tuple[int, str, str]]:
    rows = _read_table(path, ncols=2)
    return [(ln, _check_text(p, path, ln, "premise"), _check_text(h, path, ln, "hypothesis"))
            for ln, (p, h) in rows]


def _parse_q2q(path: Path) -> list[tuple[int, str, str, int]]:
    rows = _read_table(path, ncols=3, sep=",", quoted=True, header=("question1", "question2", "label"))
    out = []
    for ln, (q1, q2, lab) in rows:
        if lab not in ("0", "1"):
            raise DataError(f"{_display(path)} line {ln}: label {lab!r} is not 0 or 1")
        out.append((ln, _check_text(q1, path, ln, "question1"), _check_text(q2, path, ln, "question2"), int(lab)))
    return out


def _q2q_split(rows: list[tuple[int, str, str, int]]) -> tuple[list, list]:
    """(train rows, test rows) of the Q2Q file by :data:`Q2Q_TEST_RULE`.

    Questions linked by any labelled pair (paraphrase or not) form one component; a
    component goes to the test side whole, so no test question is ever a training text.
    """
    parent: dict[str, str] = {}

    def root(q: str) -> str:
        while parent.setdefault(q, q) != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    for _, q1, q2, _ in rows:
        parent[root(q1)] = root(q2)
    members: dict[str, list[str]] = {}
    for q in parent:
        members.setdefault(root(q), []).append(q)
    held_out = {r for r, qs in members.items()
                if int(hashlib.sha256(min(qs).encode("utf-8")).hexdigest(), 16) % 10 == 0}
    train = [row for row in rows if root(row[1]) not in held_out]
    test = [row for row in rows if root(row[1]) in held_out]
    return train, test


_SICK_HEADER = ("t", "h", "label", "relatedness_score", "sentence_h_en", "sentence_t_en")
#: SICK-ar file labels (0 neutral, 1 entailment, 2 contradiction; checked against the
#: English side) -> XNLI / all-nli convention (0 entailment, 1 neutral, 2 contradiction).
_SICK_TO_NLI = {"0": 1, "1": 0, "2": 2}


def _parse_sick(path: Path) -> list[dict]:
    rows = _read_table(path, ncols=6, sep=",", quoted=True, header=_SICK_HEADER)
    out = []
    for ln, (t, h, lab, rel, h_en, t_en) in rows:
        if lab not in _SICK_TO_NLI:
            raise DataError(f"{_display(path)} line {ln}: label {lab!r} is not 0, 1 or 2")
        out.append({
            "line": ln,
            "t": _check_text(t, path, ln, "t"),
            "h": _check_text(h, path, ln, "h"),
            "label": _SICK_TO_NLI[lab],
            "score": (_check_score(rel, path, ln, 1.0, 5.0) - 1.0) / 4.0,
            "t_en": _check_text(t_en, path, ln, "sentence_t_en"),
            "h_en": _check_text(h_en, path, ln, "sentence_h_en"),
            "raw": (t, h, lab, rel, h_en, t_en),
        })
    return out


# --------------------------------------------------------------------------- datasets

_FEATURE_TYPES = {"score": datasets.Value("float64"), "label": datasets.Value("int64")}


def _to_dataset(cols: dict[str, list], description: str = "") -> datasets.Dataset:
    feats = datasets.Features({c: _FEATURE_TYPES.get(c, datasets.Value("string")) for c in cols})
    info = datasets.DatasetInfo(description=description, features=feats)
    return datasets.Dataset.from_dict(cols, features=feats, info=info)


def load_eval_set(name: str) -> datasets.Dataset:
    """Load an evaluation set as ``sentence1, sentence2, score`` (score in [0, 1]).

    ``sts17-ar-ar`` / ``sts17-en-ar`` (250 pairs each) are the SemEval-2017 Task 1 tracks 1
    and 2 that MTEB's STS17 task uses (GATE §4.1 reports STS17 ar-ar); in ``sts17-en-ar``
    sentence1 is English and sentence2 Arabic. Gold 0-5 is divided by 5 (MTEB also
    normalises by the score range; Spearman is unaffected). SemRel 2024 scores are
    relatedness already in [0, 1]. ``stsb-ar-mt`` is the STS-B test set machine-translated;
    use it for evaluation or as ``stsb-ar-scored`` for training, never both in one run.
    Sentences are kept exactly as in the files (only a trailing CR is removed).

    ``flickr30k-test`` (:data:`CAPTION_RETRIEVAL_SETS`) gives every pair of captions of one Flickr30k
    val/test image, ``label`` 1: ``gatelib.retrieval`` turns it into each caption retrieving the others
    of its image among all 10,070.

    ``q2q-test`` is the paraphrase-retrieval test (:data:`RETRIEVAL_SETS`): about a tenth of
    the NSURL-2019 Q2Q question pairs, whole question components (:data:`Q2Q_TEST_RULE`), as
    ``sentence1, sentence2, label`` (1 paraphrase, 0 not); ``q2q-pairs``/``q2q-triplets``
    train on the rest. ``gatelib.retrieval`` scores it.
    """
    if name in CAPTION_RETRIEVAL_SETS:
        images = corpora.flickr30k_test_images(_verified_path(corpora.FLICKR_FILE))
        pairs = [(a, b) for captions in images.values() for i, a in enumerate(captions) for b in captions[i + 1:]]
        return _to_dataset({"sentence1": [a for a, _ in pairs], "sentence2": [b for _, b in pairs],
                            "label": [1] * len(pairs)}, f"{name} (evaluation); files: {corpora.FLICKR_FILE}")
    if name not in _EVAL_FILES:
        raise DataError(f"unknown evaluation set {name!r}; choose one of "
                        f"{EVAL_SETS + RETRIEVAL_SETS + CAPTION_RETRIEVAL_SETS}")
    paths = [_verified_path(rel) for rel in _EVAL_FILES[name]]
    if name == "q2q-test":
        _, test = _q2q_split(_parse_q2q(paths[0]))
        cols = {"sentence1": [q1 for _, q1, _, _ in test], "sentence2": [q2 for _, _, q2, _ in test],
                "label": [lab for *_, lab in test]}
    elif name.startswith("sts17"):
        cols = _parse_sts17(*paths)
    elif name.startswith("semrel"):
        cols = _parse_semrel(paths[0])
    else:
        cols = _parse_stsb(paths[0])
    return _to_dataset(cols, f"{name} (evaluation); files: {', '.join(_EVAL_FILES[name])}")


# --------------------------------------------------------------------------- leakage

_ARABIC_MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")
_WS = re.compile(r"\s+")


def normalize_text(s: str) -> str:
    """Leak-check normalisation: NFKC, drop Arabic diacritics (U+064B-U+0652, U+0670) and
    tatweel (U+0640), collapse whitespace, strip, casefold."""
    s = unicodedata.normalize("NFKC", s)
    s = _ARABIC_MARKS.sub("", s)
    return _WS.sub(" ", s).strip().casefold()


def eval_sentences(names: Iterable[str] = EVAL_SETS_TEST) -> set[str]:
    """Normalised sentences (both sides) of the given evaluation sets (default: the
    held-out tests STS17 ar-ar, STS17 en-ar, SemRel arq/ary test)."""
    if isinstance(names, str):
        names = (names,)
    out: set[str] = set()
    for n in names:
        ds = load_eval_set(n)
        for col in ("sentence1", "sentence2"):
            out.update(normalize_text(s) for s in ds[col])
    return out


def _string_columns(ds: datasets.Dataset) -> list[str]:
    return [c for c, f in ds.features.items()
            if isinstance(f, datasets.Value) and f.dtype in ("string", "large_string")]


def find_overlap(train: datasets.Dataset, against: set[str]) -> list[tuple[int, str, str]]:
    """``(row, column, text)`` for every string cell of ``train`` whose normalised text
    is in ``against`` (a set from :func:`eval_sentences`)."""
    hits = []
    for col in _string_columns(train):
        for i, text in enumerate(train[col]):
            if text is not None and normalize_text(text) in against:
                hits.append((i, col, text))
    return sorted(hits)


def assert_no_overlap(train: datasets.Dataset, against: set[str]) -> None:
    """Raise :class:`DataError` listing the first overlaps, if any."""
    hits = find_overlap(train, against)
    if hits:
        shown = "; ".join(f"row {r} {c}={t!r}" for r, c, t in hits[:5])
        raise DataError(f"{len(hits)} training cells overlap the evaluation sentences, e.g. {shown}. "
                        "Drop them (load_train_set does this) before training.")


def _drop_overlap(cols: dict[str, list], against: set[str]) -> tuple[dict[str, list], int]:
    str_cols = [c for c in cols if c not in _FEATURE_TYPES]
    n = len(next(iter(cols.values()))) if cols else 0
    keep = [i for i in range(n) if not any(normalize_text(cols[c][i]) in against for c in str_cols)]
    return {c: [v[i] for i in keep] for c, v in cols.items()}, n - len(keep)


# --------------------------------------------------------------------------- train sets

def _dedup(cols: dict[str, list], key_cols: Sequence[str]) -> tuple[dict[str, list], int]:
    seen, keep = set(), []
    n = len(cols[key_cols[0]])
    for i in range(n):
        k = tuple(cols[c][i] for c in key_cols)
        if k not in seen:
            seen.add(k)
            keep.append(i)
    return {c: [v[i] for i in keep] for c, v in cols.items()}, n - len(keep)


def _xnli_triplets(path: Path) -> dict[str, list]:
    """Per premise: entailment hypothesis = positive, contradiction = hard negative."""
    pairs = _parse_xnli(path)
    groups: dict[str, dict[int, list[str]]] = {}
    for p, h, lab in zip(pairs["premise"], pairs["hypothesis"], pairs["label"]):
        groups.setdefault(p, {0: [], 1: [], 2: []})[lab].append(h)
    out = {"anchor": [], "positive": [], "negative": []}
    for p, g in groups.items():
        if len(g[0]) != 1 or len(g[2]) != 1:
            raise DataError(f"{_display(path)}: premise {p[:60]!r} has {len(g[0])} entailment and "
                            f"{len(g[2])} contradiction hypotheses; expected exactly one of each")
        out["anchor"].append(p)
        out["positive"].append(g[0][0])
        out["negative"].append(g[2][0])
    return out


def _xnli_parallel(en_path: Path, ar_path: Path) -> dict[str, list]:
    en, ar = _parse_xnli_unlabelled(en_path), _parse_xnli_unlabelled(ar_path)
    if len(en) != len(ar):
        raise DataError(f"{_display(en_path)} ({len(en)} rows) and {_display(ar_path)} ({len(ar)} rows) "
                        "must be row-aligned")
    out = {"english": [], "arabic": []}
    for (_, pe, he), (_, pa, ha) in zip(en, ar):
        out["english"] += [pe, he]
        out["arabic"] += [pa, ha]
    return out


def _xnli_dev_parallel(en_path: Path, ar_path: Path) -> dict[str, list]:
    """XNLI dev English/Arabic, row-aligned; each premise appears three times (de-duplicated later)."""
    en, ar = _parse_xnli(en_path), _parse_xnli(ar_path)
    if len(en["premise"]) != len(ar["premise"]) or en["label"] != ar["label"]:
        raise DataError(f"{_display(en_path)} and {_display(ar_path)} must be row-aligned with equal labels")
    return {"english": en["premise"] + en["hypothesis"], "arabic": ar["premise"] + ar["hypothesis"]}


def _q2q(path: Path, triplets: bool) -> tuple[dict[str, list], int]:
    rows, _ = _q2q_split(_parse_q2q(path))
    if not triplets:
        pos = [(q1, q2) for _, q1, q2, lab in rows if lab == 1]
        return {"anchor": [a for a, _ in pos], "positive": [b for _, b in pos]}, 0
    negs: dict[str, list[str]] = {}
    paraphrases: dict[str, set[str]] = {}
    for _, q1, q2, lab in rows:
        if lab == 0:
            negs.setdefault(q1, []).append(q2)
            negs.setdefault(q2, []).append(q1)
        else:
            paraphrases.setdefault(q1, set()).add(q2)
            paraphrases.setdefault(q2, set()).add(q1)
    out = {"anchor": [], "positive": [], "negative": []}
    missing = 0
    for _, q1, q2, lab in rows:
        if lab != 1:
            continue
        for a, p in ((q1, q2), (q2, q1)):
            cands = [c for c in negs.get(a, ()) if c not in (a, p) and c not in paraphrases.get(a, ())]
            if cands:
                out["anchor"].append(a)
                out["positive"].append(p)
                out["negative"].append(cands[0])
                break
        else:
            missing += 1
    return out, missing


def _sick_train(paths: Sequence[Path]) -> tuple[list[dict], dict[str, int]]:
    """SICK-ar train with exact-duplicate rows, duplicate Arabic pairs (first kept) and
    pairs whose English or Arabic pair (either order) is in SICK-ar valid/test removed."""
    train, valid, test = (_parse_sick(p) for p in paths)
    held_en = {frozenset((r["t_en"], r["h_en"])) for r in valid + test}
    held_ar = {frozenset((r["t"], r["h"])) for r in valid + test}
    seen_raw, seen_ar, kept = set(), set(), []
    dropped = {"duplicates": 0, "sick_valid_test_leak": 0}
    for r in train:
        if r["raw"] in seen_raw or (r["t"], r["h"]) in seen_ar:
            dropped["duplicates"] += 1
        elif frozenset((r["t_en"], r["h_en"])) in held_en or frozenset((r["t"], r["h"])) in held_ar:
            dropped["sick_valid_test_leak"] += 1
        else:
            kept.append(r)
        seen_raw.add(r["raw"])
        seen_ar.add((r["t"], r["h"]))
    return kept, dropped


def _xnli_triplet_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    return _xnli_triplets(paths[0]), {}


def _xnli_pair_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    return _parse_xnli(paths[0]), {}


def _xnli_parallel_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    cols, repeated = _dedup(_xnli_parallel(*paths), ("english", "arabic"))
    return cols, {"duplicates": repeated}


def _xnli_dev_parallel_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    cols, repeated = _dedup(_xnli_dev_parallel(*paths), ("english", "arabic"))
    return cols, {"duplicates": repeated}


def _q2q_pair_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    return _q2q(paths[0], triplets=False)[0], {}


def _q2q_triplet_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    cols, missing = _q2q(paths[0], triplets=True)
    return cols, {"no_hard_negative": missing}


def _sick_parallel_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    """English/Arabic sentences of SICK-ar train: the teacher side of the distillation recipe."""
    rows, dropped = _sick_train(paths)
    cols, repeated = _dedup({"english": [r["t_en"] for r in rows] + [r["h_en"] for r in rows],
                             "arabic": [r["t"] for r in rows] + [r["h"] for r in rows]}, ("english", "arabic"))
    return cols, {**dropped, "duplicates": dropped["duplicates"] + repeated}


def _sick_entailment_rows(paths: Sequence[Path], english: bool = False) -> tuple[dict[str, list], dict[str, int]]:
    """Entailed SICK-ar pairs as MNRL positives, identical sentences dropped; with ``english`` their
    English originals, repeated pairs dropped as well."""
    rows, dropped = _sick_train(paths)
    t, h = ("t_en", "h_en") if english else ("t", "h")
    rows = [r for r in rows if r["label"] == 0 and r[t].strip() != r[h].strip()]
    cols = {"anchor": [r[t] for r in rows], "positive": [r[h] for r in rows]}
    if not english:
        return cols, dropped
    cols, repeated = _dedup(cols, ("anchor", "positive"))
    return cols, {**dropped, "duplicates": dropped["duplicates"] + repeated}


def _sick_pair_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    rows, dropped = _sick_train(paths)
    return {"sentence1": [r["t"] for r in rows], "sentence2": [r["h"] for r in rows],
            "score": [r["score"] for r in rows]}, dropped


def _sick_nli_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    rows, dropped = _sick_train(paths)
    return {"premise": [r["t"] for r in rows], "hypothesis": [r["h"] for r in rows],
            "label": [r["label"] for r in rows]}, dropped


def _stsb_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    return _parse_stsb(paths[0]), {}


def _semrel_rows(paths: Sequence[Path]) -> tuple[dict[str, list], dict[str, int]]:
    return _parse_semrel(paths[0]), {}


#: name -> loader of each bundled training set: its verified files in, ``(columns, dropped by reason)`` out.
_TRAIN_LOADERS: dict[str, Callable[[Sequence[Path]], tuple[dict[str, list], dict[str, int]]]] = {
    "xnli-triplets": _xnli_triplet_rows,
    "xnli-pairs": _xnli_pair_rows,
    "xnli-triplets-en": _xnli_triplet_rows,
    "xnli-parallel": _xnli_parallel_rows,
    "xnli-dev-parallel": _xnli_dev_parallel_rows,
    "sick-parallel": _sick_parallel_rows,
    "q2q-pairs": _q2q_pair_rows,
    "q2q-triplets": _q2q_triplet_rows,
    "sick-pairs": _sick_pair_rows,
    "sick-nli": _sick_nli_rows,
    "sick-entailment": _sick_entailment_rows,
    "sick-entailment-en": functools.partial(_sick_entailment_rows, english=True),
    "stsb-ar-scored": _stsb_rows,
    "semrel-arq-train": _semrel_rows,
    "semrel-ary-train": _semrel_rows,
}


def load_train_set(name: str, *, drop_eval_overlap: bool = True) -> datasets.Dataset:
    """Load a bundled training set, de-duplicated and leak-free.

    Columns follow sentence-transformers conventions (GATE §3.1 trains stage 1 on
    ``anchor, positive, negative`` triplets with MNRL and stage 2 on ``premise,
    hypothesis, label`` (0 entailment, 1 neutral, 2 contradiction) + scored pairs):

    * ``xnli-triplets`` anchor/positive/negative; ``xnli-pairs`` premise/hypothesis/label;
      ``xnli-triplets-en`` and ``sick-entailment-en`` are the same rows in the original English
      (the ``mrl-bilingual`` recipe, ``gatelib.losses``);
      ``xnli-parallel`` english/arabic (XNLI test, premises and hypotheses, de-duplicated);
      ``xnli-dev-parallel`` the same from XNLI dev; ``sick-parallel`` english/arabic sentences of
      SICK-ar train (the teacher side of the distillation recipe, ``gatelib.losses``).
    * ``q2q-pairs`` anchor/positive (label-1 pairs); ``q2q-triplets`` adds a hard negative
      (a label-0 partner of the anchor that is not one of its paraphrases).
    * ``sick-pairs`` sentence1/sentence2/score ((relatedness-1)/4); ``sick-nli``
      premise/hypothesis/label; ``sick-entailment`` anchor/positive (entailed pairs only, identical
      sentences dropped).
    * ``stsb-ar-scored`` and ``semrel-{arq,ary}-train`` sentence1/sentence2/score in [0, 1].

    Every row with any cell whose normalised text occurs in the held-out test sets
    (:data:`EVAL_SETS_TEST`) is dropped (``drop_eval_overlap=True``, the default). Counts
    of dropped rows per reason are logged at INFO, appended to ``dataset.info.description`` and
    returned by :func:`loaded_train_set`.
    """
    return loaded_train_set(name, drop_eval_overlap=drop_eval_overlap).dataset


def loaded_train_set(name: str, *, drop_eval_overlap: bool = True) -> Loaded:
    """:func:`load_train_set` with the rows dropped, by reason."""
    if name in corpora.CORPORA:
        return _load_corpus(name, drop_eval_overlap=drop_eval_overlap)
    base = name.removesuffix(DECONTAMINATED) if name in DECONTAMINATED_SETS else name
    if base not in _TRAIN_FILES:
        raise DataError(f"unknown training set {name!r}; choose one of {TRAIN_SETS}")
    cols, dropped = _TRAIN_LOADERS[base]([_verified_path(rel) for rel in _TRAIN_FILES[base]])
    dropped = {"duplicates": 0, **dropped}
    rule = f"eval-overlap filter {'on' if drop_eval_overlap else 'OFF'} against {', '.join(EVAL_SETS_TEST)}"
    if base != name:  # a row is its own group (see DECONTAMINATED)
        lexical, semantic = near_copy_groups(name)
        keep = [i for i in range(len(next(iter(cols.values())))) if i not in lexical | semantic]
        cols = {c: [v[i] for i in keep] for c, v in cols.items()}
        dropped["near_copy_row"], dropped["embedding_near_copy_row"] = len(lexical), len(semantic - lexical)
        rule += f"; rows with a near copy of any evaluation or dev sentence dropped ({_RULE})"
    return _train_dataset(name, cols, dropped, _TRAIN_FILES[base], drop_eval_overlap, rule)


def _train_dataset(name: str, cols: dict[str, list], dropped: dict[str, int], files: Sequence[str],
                   drop_eval_overlap: bool, rule: str) -> Loaded:
    """The last step of every training set: the exact-match leak filter (if on), the drop counts
    and the log, and a description naming the files and ``rule``."""
    dropped = {**dropped, "eval_overlap": 0}
    if drop_eval_overlap:
        cols, dropped["eval_overlap"] = _drop_overlap(cols, eval_sentences())
    n = len(next(iter(cols.values())))
    summary = ", ".join(f"{k}={v}" for k, v in dropped.items())
    logger.info("load_train_set(%r): %d rows; dropped %s", name, n, summary)
    return Loaded(_to_dataset(cols, f"{name} (training); files: {', '.join(files)}; rows dropped: {summary}; {rule}"),
                  dropped)


def held_out_references() -> list[str]:
    """Every distinct sentence of every bundled evaluation and dev set (:data:`EVAL_SETS`,
    :data:`RETRIEVAL_SETS`), as in the files: what decontamination compares training texts with."""
    texts: dict[str, None] = {}
    for n in EVAL_SETS + RETRIEVAL_SETS:
        ds = load_eval_set(n)
        texts.update(dict.fromkeys(list(ds["sentence1"]) + list(ds["sentence2"])))
    return list(texts)


def _rule_texts(name: str) -> list[tuple]:
    """``(group, text)`` for every text of every group of corpus ``name``, before decontamination;
    for a bundled set's decontaminated twin (:data:`DECONTAMINATED_SETS`) the groups are its rows."""
    if name in DECONTAMINATED_SETS:
        base = name.removesuffix(DECONTAMINATED)
        cols, _ = _TRAIN_LOADERS[base]([_verified_path(rel) for rel in _TRAIN_FILES[base]])
        texts = [c for c in cols if c not in _FEATURE_TYPES]
        return [(i, cols[c][i]) for i in range(len(cols[texts[0]])) for c in texts]
    files, loader = corpora.CORPORA[name]
    corpus = loader([_verified_path(rel) for rel in files])
    return [(g, t) for g, ts in corpus.group_texts.items() for t in ts]


@functools.lru_cache(maxsize=8)
def _nearest(name: str, fingerprint: str) -> tuple[pd.DataFrame, object, str]:
    """The rule's table for corpus ``name``, the TF-IDF vectoriser it was measured with and the
    sha256 of the texts (:func:`rule_texts_sha256`)."""
    texts, refs = _rule_texts(name), held_out_references()
    vectorizer = char_vectorizer()
    sims, idx = lexical_nearest([t for _, t in texts], refs, vectorizer=vectorizer)
    table = pd.DataFrame({"group": [g for g, _ in texts], "text": [t for _, t in texts], "similarity": sims,
                          "nearest": np.array([refs[i] if i >= 0 else "" for i in idx], dtype=object)})
    return table, vectorizer, texts_sha256(f"{g!r}\t{t}" for g, t in texts)


def _source_key(name: str) -> str:
    """The checksums of the files ``name``'s texts and the references come from (not the rule's)."""
    sums = _load_checksums()
    return ",".join(sums.get(f, "?") for f in files_for(name) if f not in NEAR_COPY_FILES)


def texts_sha256(texts: Iterable[str]) -> str:
    """sha256 of texts joined by newlines: what an embedding measurement was taken on."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def rule_texts_sha256(name: str) -> str:
    """sha256 of every (group, text) of set ``name`` before decontamination, as the rule reads them."""
    return _nearest(name, _source_key(name))[2]


def nearest_held_out(name: str) -> pd.DataFrame:
    """For every text of every group of corpus ``name`` (before decontamination; for a
    ``-decontaminated`` bundled set, of every row, the group being the row's index): its group, the
    char n-gram TF-IDF cosine to the nearest evaluation or dev sentence, and that sentence. Computed
    once per process and data fingerprint (about a minute for the 155k Flickr30k captions on 2 cores)."""
    return _nearest(name, _source_key(name))[0].copy()


def _embedding_measurement() -> tuple[pd.DataFrame, dict]:
    """The committed table and what it was measured with, read once per checksum of the two files."""
    sums = _load_checksums()
    return _read_embedding_measurement(",".join(sums.get(f, "?") for f in NEAR_COPY_FILES[:2]))


@functools.lru_cache(maxsize=2)
def _read_embedding_measurement(key: str) -> tuple[pd.DataFrame, dict]:
    table = pd.read_csv(_verified_path(NEAR_COPY_FILES[0]), keep_default_na=False, dtype={"group": str})
    return table, json.loads(_verified_path(NEAR_COPY_FILES[1]).read_text(encoding="utf-8"))


def embedding_near_copies(name: str) -> pd.DataFrame:
    """The committed embedding measurement for set ``name`` (``gatelib.near_copies``): one row per
    text at the base model's cosine >= the table's floor (0.95) to its nearest evaluation or dev
    sentence, with ``group`` (as ``repr``), ``text``, ``lexical`` (the TF-IDF rule's cosine),
    ``similarity`` and ``nearest``. Raises :class:`DataError` if the table was measured on other
    texts or references than those loaded now."""
    table, meta = _embedding_measurement()
    entry = meta["sets"].get(name)
    if entry is None or entry["texts_sha256"] != rule_texts_sha256(name) or \
            meta["references_sha256"] != texts_sha256(held_out_references()):
        raise DataError(f"data/{NEAR_COPY_FILES[0]} was not measured on the texts of {name!r} and the evaluation "
                        "sentences as they are now: rerun `python -m gatelib.near_copies` and update "
                        f"data/{CHECKSUMS_FILE} and DATA.md")
    return table[table.set == name].reset_index(drop=True)


def embedding_null() -> pd.DataFrame:
    """The embedding rule's null distribution, as committed (``gatelib.near_copies.null_curves``)."""
    return pd.read_csv(_verified_path(NEAR_COPY_FILES[2]))


def embedding_only_near_copies(names: Iterable[str], n: int = 8, max_chars: int = 80) -> pd.DataFrame:
    """The ``n`` closest near copies among ``names`` that only the embedding rule catches (TF-IDF
    cosine below its threshold), each training text once, with the evaluation or dev sentence (read
    from the committed table; :func:`embedding_near_copies` checks it against the data); texts longer
    than ``max_chars`` are cut there, with an ellipsis."""
    table, _ = _embedding_measurement()
    rows = table[table.set.isin(set(names))]
    rows = rows[(rows.similarity >= DECONTAMINATION["semantic"]) & (rows.lexical < DECONTAMINATION["lexical"])]
    rows = rows.sort_values(["similarity", "text"], ascending=[False, True]).drop_duplicates("text").head(n)
    cut = lambda t: t if len(t) <= max_chars else t[:max_chars].rstrip() + "…"  # noqa: E731
    rows = rows.assign(text=rows.text.map(cut), nearest=rows.nearest.map(cut))
    return rows.rename(columns={"set": "training set", "text": "training text", "lexical": "TF-IDF",
                                "similarity": "embedding", "nearest": "evaluation or dev sentence"}
                       )[["training set", "training text", "evaluation or dev sentence", "TF-IDF", "embedding"]]


def near_copy_groups(name: str) -> tuple[set, set]:
    """The groups of set ``name`` (before decontamination) with a near copy of an evaluation or dev
    sentence: ``(lexical, semantic)``, by the TF-IDF rule and by the embedding rule
    (:data:`DECONTAMINATION`); the loaders drop their union whole."""
    near = nearest_held_out(name)
    lexical = contaminated_groups(list(near["group"]), (near["similarity"].to_numpy(), DECONTAMINATION["lexical"]))
    measured = embedding_near_copies(name).drop_duplicates(["group", "text"]).set_index(["group", "text"])
    key = pd.MultiIndex.from_arrays([near["group"].map(repr), near["text"]])
    embedding = measured["similarity"].reindex(key).fillna(0.0).to_numpy()
    return lexical, contaminated_groups(list(near["group"]), (embedding, DECONTAMINATION["semantic"]))


def arabic_test_sentences(eval_sets: Iterable[str]) -> list[str]:
    """The distinct Arabic sentences of the held-out STS17 sets among ``eval_sets`` (both sides of
    ``ar-ar``, the Arabic side of ``en-ar``)."""
    texts: dict[str, None] = {}
    for name in eval_sets:
        if name.startswith("sts17"):
            ds = load_eval_set(name)
            cols = ("sentence2",) if name == "sts17-en-ar" else ("sentence1", "sentence2")
            texts.update(dict.fromkeys(t for c in cols for t in ds[c]))
    return list(texts)


def _arabic_texts(ds: datasets.Dataset) -> list[str]:
    """The distinct texts of a training set that near copies are looked for in (not ``english``)."""
    return list(dict.fromkeys(t for c in _string_columns(ds) if c != "english" for t in ds[c]))


def _rule_vectorizer(name: str):
    """The TF-IDF weights near copies in training set ``name`` are measured with: those its
    decontamination used for a grouped corpus or a ``-decontaminated`` bundled set (cosines depend
    on the IDF), else ``None`` (fitted on the set's texts and the queries)."""
    base = name.removesuffix("-contaminated")
    return _nearest(base, _source_key(base))[1] if base in corpora.CORPORA or base in DECONTAMINATED_SETS else None


def nearest_training_texts(train_sets: Iterable[str], eval_sets: Iterable[str]) -> pd.DataFrame:
    """How close each held-out STS17 Arabic sentence comes to each training set, as a run loads it:
    one row per (set, sentence) with the char n-gram TF-IDF cosine to the set's nearest text
    (``gatelib.decontamination``; the ``english`` side of parallel sets is left out).

    When a Flickr30k corpus is among the sets, the captions of Flickr30k's *test* images (never
    trained on, same domain) are measured against it too, as ``queries`` = "unseen-image captions":
    how close a caption comes without being a copy. For a grouped corpus the TF-IDF weights are those
    of its decontamination (fitted on all its texts and every evaluation and dev sentence), so its
    curve and the rule agree; other sets are weighted on their texts and the queries."""
    eval_sets = tuple(eval_sets)
    queries = arabic_test_sentences(eval_sets)
    rows = []
    for name, ds in load_named_sets(train_sets, held_out=eval_sets).items():
        labels, asked = ["STS17 Arabic sentences"] * len(queries), list(queries)
        if name.startswith("flickr30k") and name not in CONTAMINATED_SETS:
            images = corpora.flickr30k_test_images(_verified_path(corpora.FLICKR_FILE))
            unseen = [c for captions in images.values() for c in captions]
            labels, asked = labels + ["unseen-image captions"] * len(unseen), asked + unseen
        sims, _ = lexical_nearest(asked, _arabic_texts(ds), vectorizer=_rule_vectorizer(name))
        rows.append(pd.DataFrame({"training set": name, "queries": labels, "similarity": sims}))
    return pd.concat(rows, ignore_index=True)


def leaked_pairs(task: str, train_sets: Iterable[str], max_rows: int | None = None, seed: int = 0,
                 threshold: float = DECONTAMINATION["lexical"], but_not: Iterable[str] = ()) -> pd.DataFrame:
    """Which pairs of evaluation set ``task`` a run trained on ``train_sets`` has seen near copies of.

    The sets are loaded as a run loads them (``max_rows``, ``seed``, the held-out filter; the
    ``english`` side of parallel sets left out). One row per pair: ``pair`` (its index, as in the
    predictions of ``gatelib.evaluation``), ``similarity`` — the char n-gram TF-IDF cosine of the
    pair's closer sentence to its nearest text of ``train_sets``, with the weights of the near-copy
    rule for a grouped corpus — and ``leaked``: ``similarity >= threshold`` (the rule's threshold)
    and, given ``but_not`` (another run's sets, e.g. a contaminated arm's clean twin), not leaked to
    that run too: the pairs only the first run saw near copies of."""
    ds = load_eval_set(task)
    sentences = list(dict.fromkeys(list(ds["sentence1"]) + list(ds["sentence2"])))

    def closest(sets):  # per pair: its closer sentence's similarity to the nearest text of ``sets``
        best = np.zeros(len(sentences))
        for name, train in load_named_sets(sets, max_rows, seed, held_out=(task,)).items():
            best = np.maximum(best, lexical_nearest(sentences, _arabic_texts(train), vectorizer=_rule_vectorizer(name))[0])
        nearest = dict(zip(sentences, best))
        return np.maximum([nearest[s] for s in ds["sentence1"]], [nearest[s] for s in ds["sentence2"]])

    similarity = closest(train_sets)
    leaked = similarity >= threshold
    if but_not:
        leaked &= closest(but_not) < threshold
    return pd.DataFrame({"pair": np.arange(len(ds)), "similarity": similarity, "leaked": leaked})


def _load_corpus(name: str, *, drop_eval_overlap: bool) -> Loaded:
    """A grouped corpus of ``gatelib.corpora``, decontaminated group by group (:data:`DECONTAMINATION`)
    and then through the exact-match filter, unless it is one of :data:`CONTAMINATED_SETS`: those keep
    every flagged group and leave out as many clean groups (the first by sha256 of the group id), so
    the two arms of the contamination experiment have the same number of rows."""
    files, loader = corpora.CORPORA[name]
    corpus = loader([_verified_path(rel) for rel in files])
    dropped = dict(corpus.dropped)
    clean = name not in CONTAMINATED_SETS
    lexical, semantic = near_copy_groups(name.removesuffix("-contaminated"))
    flagged = lexical | semantic
    if clean:
        keep = [i for i, g in enumerate(corpus.groups) if g not in flagged]
        dropped["near_copy_group"] = sum(g in lexical for g in corpus.groups)
        dropped["embedding_near_copy_group"] = len(corpus.groups) - len(keep) - dropped["near_copy_group"]
    else:  # as many rows as the clean set: the flagged groups replace as many clean ones
        clean_rows = [i for i, g in enumerate(corpus.groups) if g not in flagged]
        n_flagged = len(corpus.groups) - len(clean_rows)
        by_hash = sorted(clean_rows, key=lambda i: hashlib.sha256(repr(corpus.groups[i]).encode()).hexdigest())
        left_out = set(by_hash[:n_flagged])
        keep = [i for i in range(len(corpus.groups)) if i not in left_out]
        dropped["clean_rows_swapped_out"] = n_flagged
    rule = (f"groups with a near copy of any evaluation or dev sentence dropped whole ({_RULE})" if clean
            else "NOT decontaminated (the contamination experiment's contaminated arm)")
    return _train_dataset(name, corpus.select(keep).columns, dropped, files, drop_eval_overlap and clean, rule)


# --------------------------------------------------------------------------- reported scores

PEER_SCORES_FILE = "reported/mteb_arabic_sts_results.csv"
_PEER_TASKS = {"STS17_ar-ar": "sts17-ar-ar", "STS17_en-ar": "sts17-en-ar", "STS22_ar": "sts22-ar",
               "STS22.v2_ar": "sts22-v2-ar"}


def load_peer_scores() -> pd.DataFrame:
    """Published MTEB scores (cosine Spearman ×100) of peer models, one row per model.

    From ``data/reported/mteb_arabic_sts_results.csv`` (embeddings-benchmark/results @ f4cc6c8b,
    see data/DATA.md). A model with results under several revisions gets, per task, the first
    non-empty value. Columns: ``model``, ``sts17-ar-ar``, ``sts17-en-ar``, ``sts22-ar``,
    ``sts22-v2-ar``, ``source``.
    """
    path = _verified_path(PEER_SCORES_FILE)
    table = pd.read_csv(path)
    missing = {"model", "source", *_PEER_TASKS} - set(table.columns)
    if missing:
        raise DataError(f"{_display(path)} lacks columns {sorted(missing)}; restore it with `git checkout data/`")
    table = table.rename(columns=_PEER_TASKS)
    merged = table.groupby("model", sort=False)[[*_PEER_TASKS.values(), "source"]].first().reset_index()
    merged["source"] = merged.source.str.split(" ").str[0]
    return merged


# --------------------------------------------------------------------------- fingerprint

def data_fingerprint(names: str | Iterable[str]) -> str:
    """12-hex fingerprint of the data behind ``names`` (eval and/or train set names).

    sha256 over the sorted ``path:sha256`` lines (from data/checksums.json) of every file
    that determines those sets (see :func:`files_for`). Put it in every results row and
    figure caption.
    """
    if isinstance(names, str):
        names = (names,)
    names = list(names)
    hub = sorted("hub:{}@{}/{}/{}".format(*HUB_DATASETS[n]) for n in names if n in HUB_DATASETS)
    sums = _load_checksums()
    files = sorted({f for n in names if n not in HUB_DATASETS for f in files_for(n)})
    missing = [f for f in files if f not in sums]
    if missing:
        raise DataError(f"no sha256 for {missing} in data/{CHECKSUMS_FILE}")
    blob = "".join(f"{f}:{sums[f]}\n" for f in files) + "".join(f"{h}\n" for h in hub)
    if any(f in _EVAL_FILES["q2q-test"] for f in files):
        blob += Q2Q_TEST_RULE + "\n"
    decontaminated = [n for n in names if (n in corpora.CORPORA and n not in CONTAMINATED_SETS) or n in DECONTAMINATED_SETS]
    if decontaminated:
        blob += f"decontamination {sorted(DECONTAMINATION.items())}: {','.join(sorted(decontaminated))}\n"
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------- Hub

#: The paper's Hub datasets: name -> (hf id, revision, config/subset, split).
#: The Omartificial-Intelligence-Space revisions are unknown (the paper pins none), so
#: "main" is used: results on them are not byte-reproducible. MTEB revisions are those
#: pinned by mteb's task definitions (STS17, STS22 v1, STS22.v2).
HUB_DATASETS: dict[str, tuple[str, str, str | None, str]] = {
    "arabic-nli-triplet": ("Omartificial-Intelligence-Space/Arabic-NLi-Triplet", "main", None, "train"),
    "arabic-nli-pair-class": ("Omartificial-Intelligence-Space/Arabic-NLi-Pair-Class", "main", None, "train"),
    "arabic-stsb": ("Omartificial-Intelligence-Space/Arabic-stsb", "main", None, "train"),
    "mteb-sts17": ("mteb/sts17-crosslingual-sts", "faeb762787bd10488a50c8b5be4a3b82e411949c", "ar-ar", "test"),
    "mteb-sts22": ("mteb/sts22-crosslingual-sts", "de9d86b3b84231dc21f76c7b7af1f28e2f57f6e3", "ar", "test"),
    "mteb-sts22-v2": ("mteb/sts22-crosslingual-sts", "d31f33a128469b20e357535c39b82fb3c3f6f2bd", "ar", "test"),
}

_OFFLINE_ALTERNATIVE = {
    "arabic-nli-triplet": 'load_train_set("xnli-triplets")',
    "arabic-nli-pair-class": 'load_train_set("xnli-pairs") or load_train_set("sick-nli")',
    "arabic-stsb": 'load_train_set("stsb-ar-scored") (STS-B test, machine-translated)',
    "mteb-sts17": 'load_eval_set("sts17-ar-ar")',
    "mteb-sts22": "none offline: the news articles were never redistributed outside the Hub",
    "mteb-sts22-v2": "none offline: the news articles were never redistributed outside the Hub",
}

#: (score_min, score_max) of the raw Hub scores, for normalisation to [0, 1].
_HUB_SCORE_RANGE = {"mteb-sts17": (0.0, 5.0), "mteb-sts22": (1.0, 4.0), "mteb-sts22-v2": (1.0, 4.0)}
_HUB_TRAIN = ("arabic-nli-triplet", "arabic-nli-pair-class", "arabic-stsb")
#: The group of a Hub training row for the near-copy rule: an NLI premise block (every triplet or
#: pair that shares the premise, whose hypotheses paraphrase it); Arabic-stsb's rows are their own.
_HUB_GROUP = {"arabic-nli-triplet": "anchor", "arabic-nli-pair-class": "premise", "arabic-stsb": None}

def load_hub_dataset(name: str, split: str | None = None, *, drop_eval_overlap: bool = True) -> datasets.Dataset:
    """Load one of the paper's Hub datasets (:data:`HUB_DATASETS`) with bundled-set column
    conventions: triplets ``anchor, positive, negative``; pair-class ``premise, hypothesis,
    label``; STS ``sentence1, sentence2, score`` with score in [0, 1] (STS17 /5, STS22
    (x-1)/3, Arabic-stsb /5 unless already in [0, 1]).

    Offline (HF_HUB_OFFLINE=1 or huggingface.co unreachable within 3 s) raises
    :class:`DataError` naming the bundled alternative. For the training sets
    (Arabic-NLi-* are SNLI/MultiNLI translations, and STS17 is built from SNLI) rows that
    share a normalised sentence with the bundled held-out tests are dropped, and then, by the
    grouped corpora's near-copy rule (:data:`DECONTAMINATION`), every premise block (``_HUB_GROUP``)
    with a text at char-TF-IDF cosine >= the threshold to any evaluation or dev sentence, unless
    ``drop_eval_overlap=False``.
    """
    return loaded_hub_dataset(name, split, drop_eval_overlap=drop_eval_overlap).dataset


def loaded_hub_dataset(name: str, split: str | None = None, *, drop_eval_overlap: bool = True) -> Loaded:
    """:func:`load_hub_dataset` with the rows dropped (``eval_overlap``, training sets only)."""
    if name not in HUB_DATASETS:
        raise DataError(f"unknown Hub dataset {name!r}; choose one of {tuple(HUB_DATASETS)}")
    repo, revision, config, default_split = HUB_DATASETS[name]
    if not hub_reachable():
        raise DataError(
            f"the Hugging Face Hub is not reachable (offline or HF_HUB_OFFLINE set), so {repo} "
            f"cannot be loaded; bundled alternative: {_OFFLINE_ALTERNATIVE[name]}"
        )
    split = split or default_split
    try:
        ds = datasets.load_dataset(repo, config, revision=revision, split=split)
    except Exception as e:  # network or Hub errors -> one clear exception type
        raise DataError(f"could not load {repo}@{revision} ({config}, {split}) from the Hub: {e}; "
                        f"bundled alternative: {_OFFLINE_ALTERNATIVE[name]}") from e

    if name == "arabic-nli-triplet":
        cols = ["anchor", "positive", "negative"]
    elif name == "arabic-nli-pair-class":
        cols = ["premise", "hypothesis", "label"]
    else:
        renames = {"text1": "sentence1", "text2": "sentence2", "similarity_score": "score", "label": "score"}
        ds = ds.rename_columns({k: v for k, v in renames.items() if k in ds.column_names and v not in ds.column_names})
        cols = ["sentence1", "sentence2", "score"]
        if name in _HUB_SCORE_RANGE:
            lo, hi = _HUB_SCORE_RANGE[name]
        else:  # Arabic-stsb: the card says already divided by 5; guard against 0-5 copies
            hi_seen = max(ds["score"]) if len(ds) else 1.0
            lo, hi = (0.0, 5.0) if hi_seen > 1.0 else (0.0, 1.0)
        ds = ds.map(lambda b: {"score": [(float(x) - lo) / (hi - lo) for x in b["score"]]}, batched=True)
        ds = ds.cast_column("score", datasets.Value("float64"))
    missing = [c for c in cols if c not in ds.column_names]
    if missing:
        raise DataError(f"{repo}@{revision} has columns {ds.column_names}; expected {cols}")
    ds = ds.select_columns(cols)
    dropped: dict[str, int] = {}
    if name in _HUB_TRAIN and drop_eval_overlap:
        against = eval_sentences()
        str_cols = _string_columns(ds)
        before = len(ds)
        ds = ds.filter(lambda b: [not any(normalize_text(b[c][i] or "") in against for c in str_cols)
                                  for i in range(len(b[str_cols[0]]))], batched=True)
        dropped["eval_overlap"] = before - len(ds)
        ds, dropped["near_copy_group"] = _drop_near_copy_groups(ds, _HUB_GROUP[name])
        logger.info("load_hub_dataset(%r): dropped %s", name, dropped)
    return Loaded(ds, dropped)


def _drop_near_copy_groups(ds: datasets.Dataset, group_column: str | None) -> tuple[datasets.Dataset, int]:
    """``ds`` without every group (rows sharing ``group_column``'s normalised text; each row its own
    group if None) that has a text at char-TF-IDF cosine >= ``DECONTAMINATION["lexical"]`` to any
    evaluation or dev sentence (:func:`held_out_references`), and the number of rows dropped."""
    if not len(ds):
        return ds, 0
    columns = _string_columns(ds)
    rows = [[t or "" for t in row] for row in zip(*(ds[c] for c in columns))]
    where = columns.index(group_column) if group_column else None
    groups = [normalize_text(row[where]) if where is not None else i for i, row in enumerate(rows)]
    texts = list(dict.fromkeys(t for row in rows for t in row))
    sims = dict(zip(texts, lexical_nearest(texts, held_out_references())[0]))
    flagged = contaminated_groups([g for g, row in zip(groups, rows) for _ in row],
                                  (np.array([sims[t] for row in rows for t in row]), DECONTAMINATION["lexical"]))
    keep = [i for i, g in enumerate(groups) if g not in flagged]
    return ds.select(keep), len(ds) - len(keep)


# --------------------------------------------------------------------------- by name

def load_named_set(name: str) -> datasets.Dataset:
    """Any set a profile can name: bundled evaluation or training set, or a Hub dataset."""
    return _loaded_set(name).dataset


def _loaded_set(name: str) -> Loaded:
    if name in EVAL_SETS or name in RETRIEVAL_SETS or name in CAPTION_RETRIEVAL_SETS:
        return Loaded(load_eval_set(name), {})
    if name in TRAIN_SETS:
        return loaded_train_set(name)
    if name in HUB_DATASETS:
        return loaded_hub_dataset(name)
    raise DataError(f"unknown dataset {name!r}; bundled: {EVAL_SETS + TRAIN_SETS}; Hub: {tuple(HUB_DATASETS)}")


def load_named_sets(names: Iterable[str], max_rows: int | None = None, seed: int = 0,
                    held_out: Iterable[str] = ()) -> dict[str, datasets.Dataset]:
    """``{name: dataset}`` for a profile's list; ``max_rows`` keeps a seeded random subset of each.

    ``held_out`` names the sets a run evaluates on (test and dev): rows sharing a normalised
    sentence with any of them are dropped too (counted as ``held_out_overlap`` by
    :func:`loaded_sets`), so a profile never trains on anything it reports.
    """
    return {name: got.dataset for name, got in loaded_sets(names, max_rows, seed, held_out).items()}


def loaded_sets(names: Iterable[str], max_rows: int | None = None, seed: int = 0,
                held_out: Iterable[str] = ()) -> dict[str, Loaded]:
    """:func:`load_named_sets` with the rows dropped from each set, by reason."""
    against = _held_out_sentences(held_out)
    loaded = {}
    for name in names:
        ds, dropped = _loaded_set(name)
        if held_out and name not in CONTAMINATED_SETS:
            leaking = {row for row, _, _ in find_overlap(ds, against)}
            if leaking:
                ds = ds.select([i for i in range(len(ds)) if i not in leaking])
            dropped = {**dropped, "held_out_overlap": len(leaking)}
        if max_rows is not None and len(ds) > max_rows:
            ds = ds.shuffle(seed=seed).select(range(max_rows))
        loaded[name] = Loaded(ds, dropped)
    return loaded


def data_summary(train_sets: Iterable[str], eval_sets: Iterable[str]) -> pd.DataFrame:
    """One row per set: role (train/dev/test), rows after cleaning, columns, rows dropped,
    data fingerprint. Training sets are loaded as a run loads them (held-out overlap dropped)."""
    rows = []
    eval_sets = tuple(eval_sets)
    train = loaded_sets(train_sets, held_out=eval_sets)
    for name, (ds, dropped) in train.items():
        rows.append(_summary_row(name, "train", ds, dropped))
    for name in eval_sets:
        role = "test" if name in EVAL_SETS_TEST or name in HUB_DATASETS else "dev"
        rows.append(_summary_row(name, role, load_named_set(name), {}))
    return pd.DataFrame(rows)


def _summary_row(name: str, role: str, ds: datasets.Dataset, dropped: dict[str, int]) -> dict:
    return {"set": name, "role": role, "rows": len(ds), "columns": ", ".join(ds.column_names),
            "dropped": ", ".join(f"{k} {v}" for k, v in dropped.items() if v) or "-",
            "sha256": data_fingerprint(name)}


def _held_out_sentences(names: Iterable[str]) -> set[str]:
    """Normalised sentences of the held-out tests plus any bundled evaluation sets named."""
    return eval_sentences(tuple(dict.fromkeys([*EVAL_SETS_TEST, *(n for n in names if n in EVAL_SETS)])))


def overlap_report(train_sets: Iterable[str], eval_sets: Iterable[str]) -> pd.DataFrame:
    """Rows of each training set (as a run loads it) that share a normalised sentence with any
    test or dev set the run evaluates on: all zeros, or the run is leaking. The contaminated arm of
    the contamination experiment (:data:`CONTAMINATED_SETS`) leaks by design and is left out."""
    eval_sets = tuple(eval_sets)
    against = _held_out_sentences(eval_sets)
    rows = []
    clean = [n for n in train_sets if n not in CONTAMINATED_SETS]
    for name, ds in load_named_sets(clean, held_out=eval_sets).items():
        rows.append({"training set": name, "rows": len(ds),
                     "overlapping_rows": len({row for row, _, _ in find_overlap(ds, against)})})
    return pd.DataFrame(rows)
