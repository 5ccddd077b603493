"""Where a training step's time goes: torch.profiler over a few steps of the real recipe.

    python benchmarks/step_breakdown.py --profile grid --config mrl --batch-size 64 --out out/

Writes ``step_breakdown.csv`` (per step: wall time, time the host spent in PyTorch operators,
time the GPU spent in kernels) and ``step_breakdown.txt`` (the operators with the most host and
device time). On the H200 a batch-64 MRL step took ~146 ms for ~20 ms of e5-small arithmetic:
if the kernels add up to far less than the wall time, the GPU waits on the host (launch-bound),
and the levers are fewer launches (compilation, CUDA graphs, larger batches), not faster kernels.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path

import pandas as pd
import torch
from torch.profiler import ProfilerActivity, profile
from transformers import TrainerCallback

from gatelib import data
from gatelib.results import atomic_write_csv, hardware
from gatelib.profiles import load_profile
from gatelib.provenance import git_commit
from gatelib.training import train_model


class ProfileSteps(TrainerCallback):
    """Profile optimizer steps ``start`` … ``start + steps - 1`` (earlier ones warm up)."""

    def __init__(self, start: int, steps: int):
        self.start, self.steps, self.profiler, self.began = start, steps, None, None

    def on_step_begin(self, args, state, control, **kwargs):
        if state.global_step == self.start:
            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
            self.profiler = profile(activities=activities)
            self.profiler.__enter__()
            self.began = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if self.profiler is not None and state.global_step == self.start + self.steps:
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            self.wall = time.perf_counter() - self.began
            self.profiler.__exit__(None, None, None)
            self.events = self.profiler.key_averages()
            self.profiler = None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="grid")
    parser.add_argument("--config", default="mrl")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--compile", action="store_true", help="torch.compile the encoder (dynamic shapes)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cfg = load_profile(args.profile)
    train_sets = data.load_named_sets(cfg.sets_for(args.config), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    recipe = dataclasses.replace(cfg.recipe_for(args.config), batch_size=args.batch_size,
                                 max_steps=args.warmup + args.steps, save_steps=100 * args.steps)
    bench = dataclasses.replace(cfg, name=f"{cfg.name}-breakdown", training=recipe)
    probe = ProfileSteps(args.warmup, args.steps)
    try:
        train_model(bench, args.config, 0, train_sets, retrain=True, compile_model=args.compile, callbacks=(probe,))
    finally:
        shutil.rmtree(bench.models_dir, ignore_errors=True)
    device_us = sum(e.self_device_time_total for e in probe.events)
    host_us = sum(e.self_cpu_time_total for e in probe.events)
    row = {"hardware": hardware(), "config": args.config, "batch_size": args.batch_size, "compiled": args.compile,
           "profiled_steps": args.steps, "wall_ms_per_step": round(1000 * probe.wall / args.steps, 1),
           "host_op_ms_per_step": round(host_us / 1000 / args.steps, 1),
           "device_kernel_ms_per_step": round(device_us / 1000 / args.steps, 1),
           "operator_calls_per_step": round(sum(e.count for e in probe.events) / args.steps),
           "profile": cfg.name, "commit": git_commit()}
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_csv(pd.DataFrame([row]), args.out / "step_breakdown.csv")
    sort_device = "self_device_time_total" if device_us else "self_cpu_time_total"
    (args.out / "step_breakdown.txt").write_text(
        f"{row}\n\nby host time:\n{probe.events.table(sort_by='self_cpu_time_total', row_limit=25)}\n"
        f"by device time:\n{probe.events.table(sort_by=sort_device, row_limit=25)}\n")
    print(pd.Series(row).to_string())


if __name__ == "__main__":
    main()
