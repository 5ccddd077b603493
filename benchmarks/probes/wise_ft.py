"""Probe (book/ideas.md): WiSE-FT (Wortsman et al. 2022) — interpolate the untrained and a trained
model's weights, theta = (1 - a) * untrained + a * trained, and score every eval set.

    python benchmarks/probes/wise_ft.py --out /tmp/wise_ft.csv

Needs the seeds profile's trained models (models/seeds/{mrl,mnrl}-seed{0,1,2}); a = 0 and 1 are
the seeds part's zero-shot and trained rows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sentence_transformers import SentenceTransformer

from gatelib import data
from gatelib.evaluation import evaluate_model
from gatelib.models import load_base_model
from gatelib.profiles import load_profile
from gatelib.training import run_dir


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["mrl", "mnrl"])
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 0.7, 0.85])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    cfg = load_profile("seeds")
    eval_sets = {name: data.load_eval_set(name) for name in cfg.eval_sets}
    untrained = load_base_model(cfg.base_model, device="cpu").state_dict()
    rows = []
    for config in args.configs:
        for seed in cfg.seeds:
            model = SentenceTransformer(str(run_dir(cfg, config, seed) / "final"), device="cpu")
            trained = {k: v.clone() for k, v in model.state_dict().items()}
            for a in args.weights:
                model.load_state_dict({k: (1 - a) * untrained[k] + a * v if v.is_floating_point() else v
                                       for k, v in trained.items()})
                rows.append(evaluate_model(model, eval_sets, [384, 64, 32], profile="wise-ft", config=config,
                                           seed=seed, model=f"{config}@{a}", commit="", data_checksum="")
                            .assign(weight=a))
                pd.concat(rows).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
