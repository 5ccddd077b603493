"""Training throughput of a recipe on this machine: training pairs per second, lever by lever.

    python benchmarks/training_throughput.py --profile offline            # CPU levers, < 5 min
    python benchmarks/training_throughput.py --profile grid --gpu --batch-sizes 64 256 512 \\
        --steps 25 --out results/grid/throughput.csv                      # GPU speed-ups

Times ``--steps`` optimizer steps of the real recipe (sentence-transformers' trainer, the
profile's data, base model and hyper-parameters; ``gatelib.training.training_throughput``) and
writes one row per setting to ``results/<profile>/throughput.csv`` (or ``--out``).

On a CPU each lever changes one thing of fp32 training of the profile's recipe and runs in its own
process, so that its ``peak_rss_mb`` is its own: :data:`LEVERS`. With ``--gpu`` the settings are gatelib's
GPU speed-ups (fused AdamW, TF32) off and on, optionally with the encoder compiled.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch

from gatelib import data
from gatelib.results import atomic_write_csv
from gatelib.models import BUNDLED_E5_AR_EN
from gatelib.profiles import load_profile
from gatelib.provenance import git_commit
from gatelib.training import training_throughput

#: fp32 training of the whole model, the baseline every lever changes one thing of (a profile such as
#: offline may itself train on the fast path: the levers are measured from fp32 all the same).
FP32 = {"precision": "fp32", "freeze_word_embeddings": False}
#: lever -> the recipe it times: ``base_model``, ``threads`` or training-recipe knobs.
LEVERS = {
    "fp32": FP32,
    "bf16": {**FP32, "precision": "bf16"},
    "vocab-25k": {**FP32, "base_model": BUNDLED_E5_AR_EN},
    "frozen-word-embeddings": {**FP32, "freeze_word_embeddings": True},
    "1-thread": {**FP32, "threads": 1},
    "bf16+vocab-25k": {**FP32, "precision": "bf16", "base_model": BUNDLED_E5_AR_EN},
    "bf16+frozen-word-embeddings": {"precision": "bf16", "freeze_word_embeddings": True},
}


#: What the command times unless told otherwise: every lever but one thread, which halves the speed
#: and takes the longest (2 cores, AMD EPYC: these six took 4 min 35 s, at 4 timed steps each).
DEFAULT_LEVERS = [lever for lever in LEVERS if lever != "1-thread"]


def _time_one(args) -> list[dict]:
    """The rows of one setting (this process: one lever, or the GPU speed-ups)."""
    cfg = load_profile(args.profile)
    change = dict(LEVERS[args.lever]) if args.lever else {}
    if "threads" in change:
        torch.set_num_threads(change.pop("threads"))
    base_model = change.pop("base_model", cfg.base_model)
    cfg = dataclasses.replace(cfg, base_model=base_model, training=dataclasses.replace(cfg.training, **change))
    train_sets = data.load_named_sets(cfg.sets_for(args.config), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    speedups = {"both": (False, True), "on": (True,), "off": (False,)}[args.speedups] if args.gpu else (False,)
    rows = training_throughput(cfg, args.config, train_sets, tuple(args.batch_sizes), args.steps,
                               warmup_steps=args.warmup, gpu_speedups=speedups, compile_model=args.compile)
    return [{"lever": args.lever or _gpu_setting(row), **row} for row in rows]


def _gpu_setting(row: dict) -> str:
    """The name of a GPU row: its batch size and the speed-ups it ran with."""
    return (f"batch {row['batch_size']}" + (", fused AdamW + TF32" if row["gpu_speedups"] else "")
            + (", compiled" if row["compiled"] else ""))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="offline")
    parser.add_argument("--config", default="mrl")
    parser.add_argument("--levers", nargs="+", choices=sorted(LEVERS), default=DEFAULT_LEVERS,
                        help="CPU settings to time, one process each (default: all but 1-thread)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64])
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per setting, warm-up included")
    parser.add_argument("--warmup", type=int, default=3, help="steps not timed")
    parser.add_argument("--gpu", action="store_true", help="time gatelib's GPU speed-ups instead of the CPU levers")
    parser.add_argument("--compile", action="store_true", help="torch.compile the encoder (dynamic shapes)")
    parser.add_argument("--speedups", choices=["both", "on", "off"], default="both",
                        help="with --gpu: fused AdamW and TF32 off and on, or one of them")
    parser.add_argument("--out", type=Path, help="default: results/<profile>/throughput.csv")
    parser.add_argument("--lever", help=argparse.SUPPRESS)  # internal: time one lever, print JSON rows
    args = parser.parse_args(argv)
    if args.lever:
        print(json.dumps(_time_one(args)))
        return
    cfg = load_profile(args.profile)
    if args.gpu:
        rows = _time_one(args)
    else:
        rows = []
        for lever in args.levers:
            child = [sys.executable, __file__, *(argv if argv is not None else sys.argv[1:]), "--lever", lever]
            done = subprocess.run(child, check=True, stdout=subprocess.PIPE, text=True)
            rows += json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{lever}: {rows[-1]['pairs_per_s']} pairs/s", flush=True)
    table = pd.DataFrame(rows).assign(profile=cfg.name, commit=git_commit())
    atomic_write_csv(table, args.out or cfg.results_dir / "throughput.csv")
    print(table.drop(columns=["hardware", "commit"]).to_string(index=False))


if __name__ == "__main__":
    main()
