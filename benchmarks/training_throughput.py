"""Training throughput of a recipe on this machine: examples per second per batch size.

    python benchmarks/training_throughput.py --profile grid --config mrl --out results/grid/throughput.csv

Times ``--steps`` optimizer steps of the real recipe (sentence-transformers' trainer, the
profile's data and base model) at each batch size, without and with gatelib's GPU speed-ups
(fused AdamW, TF32), optionally with the encoder compiled; see
``gatelib.training.training_throughput``. Meant for a GPU.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from gatelib import data
from gatelib.evaluation import atomic_write_csv
from gatelib.profiles import load_profile
from gatelib.provenance import git_commit
from gatelib.training import training_throughput


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="grid")
    parser.add_argument("--config", default="mrl")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--compile", action="store_true", help="torch.compile the encoder (dynamic shapes)")
    parser.add_argument("--speedups", choices=["both", "on", "off"], default="both",
                        help="gatelib's GPU speed-ups (fused AdamW, TF32): time without and with, or one")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cfg = load_profile(args.profile)
    train_sets = data.load_named_sets(cfg.sets_for(args.config), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    speedups = {"both": (False, True), "on": (True,), "off": (False,)}[args.speedups]
    rows = training_throughput(cfg, args.config, train_sets, tuple(args.batch_sizes), args.steps,
                               gpu_speedups=speedups, compile_model=args.compile)
    table = pd.DataFrame(rows).assign(profile=cfg.name, commit=git_commit())
    atomic_write_csv(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
