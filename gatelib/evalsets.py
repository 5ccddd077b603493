"""The bundled evaluation sets, and the exact-match leak rule every training set goes through.

GATE evaluates (§4.1) on MTEB STS17 ``ar-ar``, STS22 ``ar`` and STS22.v2 ``ar``. Offline, the
study evaluates on the official SemEval-2017 STS files that MTEB's STS17 task is built from, the
SemRel 2024 Algerian and Moroccan tests (dialect STS), STS-B machine-translated, a held-out part of
the NSURL-2019 Q2Q question pairs (paraphrase retrieval) and Flickr30k's own val/test images
(caption retrieval); ``data/DATA.md`` gives their provenance and licences.

* :func:`load_eval_set` -- ``sentence1, sentence2, score`` (score in [0, 1]) or ``label`` for the
  retrieval tests.
* :func:`normalize_text`, :func:`eval_sentences`, :func:`find_overlap` -- the exact-match rule: no
  training row may share a normalised sentence with a held-out test (:data:`EVAL_SETS_TEST`).
* :func:`held_out_references` -- every evaluation and dev sentence, what the near-copy rule
  (``gatelib.decontamination``) compares training texts with.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import datasets

from gatelib import corpora
from gatelib.datafiles import DataError, _check_score, _check_text, _display, _read_table, _verified_path

__all__ = [
    "EVAL_SETS",
    "EVAL_SETS_TEST",
    "RETRIEVAL_SETS",
    "CAPTION_RETRIEVAL_SETS",
    "Q2Q_TEST_RULE",
    "load_eval_set",
    "normalize_text",
    "eval_sentences",
    "find_overlap",
    "assert_no_overlap",
    "held_out_references",
    "arabic_test_sentences",
]


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


def held_out_references() -> list[str]:
    """Every distinct sentence of every bundled evaluation and dev set (:data:`EVAL_SETS`,
    :data:`RETRIEVAL_SETS`), as in the files: what decontamination compares training texts with."""
    texts: dict[str, None] = {}
    for n in EVAL_SETS + RETRIEVAL_SETS:
        ds = load_eval_set(n)
        texts.update(dict.fromkeys(list(ds["sentence1"]) + list(ds["sentence2"])))
    return list(texts)


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
