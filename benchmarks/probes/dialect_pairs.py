"""Probe (book/ideas.md): GATE stage 1 plus the SemRel 2024 dialect training pairs.

    python benchmarks/probes/dialect_pairs.py --seed 0 --out /tmp/dialects.csv
    python benchmarks/probes/dialect_pairs.py --seed 0 --control --out /tmp/dialects-control.csv

The seeds profile's ``mrl`` recipe, with the Algerian and Moroccan SemRel training splits
(``semrel-arq-train``, ``semrel-ary-train``: scored relatedness pairs, disjoint from the
SemRel test splits the study evaluates on) trained beside its sets under
``MatryoshkaLoss(CoSENTLoss)`` — the scored-pair loss of GATE stage 2 at every Matryoshka dim.
This is the ``mrl-dialects`` config of gatelib. ``--control`` is its no-Matryoshka control on the
same data: ``mnrl`` on the contrastive sets and plain ``CoSENTLoss`` on the dialect pairs (since
the ``mnrl-dialects`` config, trained with three seeds in the seeds part).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import gatelib.training
from gatelib import data
from gatelib.evaluation import evaluate_model
from gatelib.losses import build_losses, dataset_kind, matryoshka_loss, sts_loss
from gatelib.profiles import load_profile
from gatelib.training import train_model

DIALECT_SETS = ("semrel-arq-train", "semrel-ary-train")


def with_dialect_pairs(config, model, datasets, dims, **kwargs):
    """``build_losses`` for the contrastive sets; CoSENT for the scored ones, under MRL for ``mrl``."""
    scored = {n: ds for n, ds in datasets.items() if dataset_kind(ds) == "scored"}
    sets, losses = build_losses(config, model, {n: ds for n, ds in datasets.items() if n not in scored},
                                dims, **kwargs)
    for name, dataset in scored.items():
        loss = sts_loss(model, "cosent")
        sets[name], losses[name] = dataset, matryoshka_loss(model, dims, inner=loss) if config == "mrl" else loss
    return sets, losses


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--control", action="store_true", help="no Matryoshka: mnrl + plain CoSENT")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    gatelib.training.build_losses = with_dialect_pairs
    seeds = load_profile("seeds")
    config = "mnrl" if args.control else "mrl"
    cfg = dataclasses.replace(seeds, name="probe-dialect-pairs", configs=("zero-shot", config),
                              train_sets=seeds.train_sets + DIALECT_SETS)
    train_sets = data.load_named_sets(cfg.sets_for(config), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    for name in DIALECT_SETS:  # never train on an evaluation set
        data.assert_no_overlap(train_sets[name], data.eval_sentences(cfg.eval_sets))
    model, _ = train_model(cfg, config, args.seed, train_sets)
    eval_sets = {n: data.load_eval_set(n) for n in cfg.eval_sets}
    table = evaluate_model(model, eval_sets, cfg.dims, profile=cfg.name, config=f"{config}+dialect-pairs",
                           seed=args.seed, model=cfg.name, commit="", data_checksum="")
    table.to_csv(args.out, index=False)
    print(table.pivot_table(index="dim", columns="task", values="spearman_cosine").round(2).to_string())


if __name__ == "__main__":
    main()
