"""Probe (book/ideas.md): which training set earns its place? Leave one out of ``mnrl-dialects``, or add one.

    python benchmarks/probes/data_mix.py --without q2q-pairs --seed 0 --out /tmp/mix-no-q2q.csv
    python benchmarks/probes/data_mix.py --with sick-pairs --seed 0 --out /tmp/mix-sick-pairs.csv
    python benchmarks/probes/data_mix.py --replace q2q-pairs q2q-triplets --seed 0 --out /tmp/mix-q2q-triplets.csv

The seeds profile's ``mnrl-dialects`` recipe (the best full-size model of the seeds part) trained
without one of its sets — ``xnli-triplets``, ``q2q-pairs``, ``sick-entailment`` or a dialect
split — with everything else unchanged: the data-mix question the issue asks to settle on the
dev set (STS-B, machine-translated), with every test set reported beside it. ``--with`` adds a
bundled training set instead (scored pairs get CoSENT, triplets or pairs MNRL; never the dev set
``stsb-ar-scored``); ``--replace OLD NEW`` trains NEW in OLD's place (e.g. the Q2Q pairs with
a labelled non-paraphrase of the anchor as hard negative). Models go to
``models/probe-data-mix-<change>/``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from gatelib import data
from gatelib.evaluation import evaluate_model
from gatelib.losses import dataset_kind
from gatelib.profiles import ProfileError, load_profile
from gatelib.provenance import git_commit
from gatelib.training import train_model

CONFIG = "mnrl-dialects"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    change = parser.add_mutually_exclusive_group(required=True)
    change.add_argument("--without", help="the training set to leave out")
    change.add_argument("--with", dest="added", help="a bundled training set to add")
    change.add_argument("--replace", nargs=2, metavar=("OLD", "NEW"), help="train NEW in OLD's place")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    seeds = load_profile("seeds")
    if args.without is not None:
        if args.without not in seeds.sets_for(CONFIG):
            raise ProfileError(f"{args.without!r} is not a training set of {CONFIG}; choose from "
                               f"{list(seeds.sets_for(CONFIG))}.")
        change = f"without-{args.without}"
        train_sets = tuple(s for s in seeds.train_sets if s != args.without)
        dialect_sets = tuple(s for s in seeds.dialect_sets if s != args.without)
    elif args.replace is not None:
        old, new = args.replace
        kinds = {s: dataset_kind(data.load_train_set(s)) for s in (old, new)} if old in seeds.train_sets \
            and new in data.TRAIN_SETS and new not in seeds.sets_for(CONFIG) + ("stsb-ar-scored",) else {}
        if not kinds or kinds[old] != kinds[new]:
            raise ProfileError(f"--replace {old} {new}: OLD must be one of {list(seeds.train_sets)} and NEW "
                               f"a bundled set of the same kind that {CONFIG} does not train on.")
        change = f"{new}-for-{old}"
        train_sets = tuple(new if s == old else s for s in seeds.train_sets)
        dialect_sets = seeds.dialect_sets
    else:
        kinds = {s: dataset_kind(data.load_train_set(s)) for s in data.TRAIN_SETS
                 if s not in seeds.sets_for(CONFIG) and s != "stsb-ar-scored"}
        allowed = [s for s, kind in kinds.items() if kind in ("contrastive", "scored")]
        if args.added not in allowed:
            raise ProfileError(f"{args.added!r} cannot be added to {CONFIG}; choose from {allowed}.")
        change = f"with-{args.added}"
        scored = kinds[args.added] == "scored"
        train_sets = seeds.train_sets + (() if scored else (args.added,))
        dialect_sets = seeds.dialect_sets + ((args.added,) if scored else ())
    cfg = dataclasses.replace(seeds, name=f"probe-data-mix-{change}", configs=("zero-shot", CONFIG),
                              train_sets=train_sets, dialect_sets=dialect_sets)
    train_sets = data.load_named_sets(cfg.sets_for(CONFIG), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    model, _ = train_model(cfg, CONFIG, args.seed, train_sets)
    eval_sets = {n: data.load_eval_set(n) for n in cfg.eval_sets}
    table = evaluate_model(model, eval_sets, cfg.dims, profile=cfg.name, config=f"{CONFIG}-{change}",
                           seed=args.seed, model=cfg.name, commit=git_commit(),
                           data_checksum=data.data_fingerprint(cfg.sets_for(CONFIG) + cfg.eval_sets))
    table.to_csv(args.out, index=False)
    print(table.pivot_table(index="dim", columns="task", values="spearman_cosine").round(2).to_string())


if __name__ == "__main__":
    main()
