"""Probe (book/ideas.md): GATE stage 1 with the Matryoshka losses weighted towards small dims.

    python benchmarks/probes/matryoshka_weights.py --weights 1 1 1 2 4 --seed 0 --out /tmp/weights.csv

The seeds profile's ``mrl`` recipe with ``MatryoshkaLoss(..., matryoshka_weights=WEIGHTS)`` for
its dims 384/256/128/64/32 (the paper and gatelib weigh them equally); trained into
``models/probe-weights-…/`` and scored on every eval set at every dim.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import gatelib.losses
from gatelib import data
from gatelib.evaluation import evaluate_model
from gatelib.profiles import load_profile
from gatelib.training import train_model


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    library_loss = gatelib.losses.MatryoshkaLoss
    gatelib.losses.MatryoshkaLoss = lambda model, inner, dims, **_: library_loss(
        model, inner, dims, matryoshka_weights=args.weights)
    name = "probe-weights-" + "-".join(f"{w:g}" for w in args.weights)
    cfg = dataclasses.replace(load_profile("seeds"), name=name, configs=("zero-shot", "mrl"))
    train_sets = data.load_named_sets(cfg.sets_for("mrl"), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    model, _ = train_model(cfg, "mrl", args.seed, train_sets)
    eval_sets = {n: data.load_eval_set(n) for n in cfg.eval_sets}
    table = evaluate_model(model, eval_sets, cfg.dims, profile=name, config="mrl", seed=args.seed,
                           model=name, commit="", data_checksum="")
    table.to_csv(args.out, index=False)
    print(table.pivot_table(index="dim", columns="task", values="spearman_cosine").round(2).to_string())


if __name__ == "__main__":
    main()
