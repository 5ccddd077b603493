"""The bundled training sets: their files, strict parsers and one small loader per set.

GATE trains stage 1 (§3.1) on Arabic NLI triplets with MNRL and stage 2 on NLI pairs and scored
STS pairs. The bundled stand-ins are XNLI's human-translated Arabic dev set, SICK-ar, NSURL-2019
Q2Q's training part, STS-B machine-translated and the SemRel 2024 training splits (``data/DATA.md``).
Each loader takes its verified files and returns ``(columns, rows dropped by reason)``; the leak
rules (exact match, near copies) are applied above, in ``gatelib.data``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

from gatelib.datafiles import DataError, _check_score, _check_text, _display, _read_table, _verified_path
from gatelib.evalsets import _parse_q2q, _parse_semrel, _parse_stsb, _q2q_split

__all__ = ["TRAIN_FILES", "bundled_rows"]


_SICK_FILES = ("sick_ar/train_nli.csv", "sick_ar/valid_nli.csv", "sick_ar/test_nli.csv")
#: name -> files (relative to data/) of each bundled training set; its loader is in :data:`_TRAIN_LOADERS`.
TRAIN_FILES: dict[str, tuple[str, ...]] = {
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


def bundled_rows(name: str) -> tuple[dict[str, list], dict[str, int]]:
    """The columns of bundled training set ``name`` (a key of :data:`TRAIN_FILES`) from its verified
    files, and the rows its loader dropped, by reason (``duplicates``, ``sick_valid_test_leak``,
    ``no_hard_negative``)."""
    if name not in TRAIN_FILES:
        raise DataError(f"unknown bundled training set {name!r}; choose one of {tuple(TRAIN_FILES)}")
    return _TRAIN_LOADERS[name]([_verified_path(rel) for rel in TRAIN_FILES[name]])
