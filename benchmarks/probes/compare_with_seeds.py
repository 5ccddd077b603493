"""Probe intervals: a probe's trained seeds against a seeds-part config, paired bootstrap over test pairs.

    python benchmarks/probes/compare_with_seeds.py \\
        --models models/probe-knobs-mnrl-dialects-scale100-gist --config mnrl-dialects \\
        --label mnrl-dialects-gist --against mnrl-dialects --out results/probes/gist

Scores every ``<models>/<config>-seed<n>/final`` on the seeds profile's eval sets, keeps the
per-pair cosines (``predictions.csv.gz``), and writes ``comparisons.csv``: ``label − against``
per test set and dim, from the committed ``results/seeds/predictions.csv.gz`` of ``against``
(gatelib.significance.paired_bootstrap: all seeds of each side, the same test pairs).

``--against-from DIR`` adds another probe's ``predictions.csv.gz`` to compare against (e.g. the
guided control ``mnrl-dialects-gist`` in ``results/probes/gist``).

With ``--soup`` it scores one model instead: the uniform average of the seeds' weights (a "model
soup", Wortsman et al. 2022, ICML), recorded as seed -1 and compared with all seeds of ``against``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sentence_transformers import SentenceTransformer

from gatelib import data
from gatelib.evaluation import evaluate_model, read_predictions
from gatelib.profiles import PROJECT_ROOT, load_profile
from gatelib.provenance import git_commit
from gatelib.significance import comparison_table


def weight_average(models: list[SentenceTransformer]) -> SentenceTransformer:
    """The first model with every floating-point weight replaced by the mean over ``models``."""
    states = [m.state_dict() for m in models]
    models[0].load_state_dict({k: sum(s[k] for s in states) / len(states) if v.is_floating_point() else v
                               for k, v in states[0].items()})
    return models[0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="a probe's models folder")
    parser.add_argument("--config", required=True, help="the config the probe trained (its run folders)")
    parser.add_argument("--label", required=True, help="the probe's name in the tables")
    parser.add_argument("--against", required=True, nargs="+",
                        help="configs of the seeds part (or of --against-from)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--soup", action="store_true", help="score the average of the seeds' weights")
    parser.add_argument("--against-from", type=Path, action="append", default=[],
                        help="a probe's results folder holding the predictions of --against")
    args = parser.parse_args(argv)
    seeds = load_profile("seeds")
    runs = sorted(args.models.glob(f"{args.config}-seed*/final"))
    if not runs:
        raise FileNotFoundError(f"No finished {args.config} runs under {args.models}.")
    sources = [PROJECT_ROOT / "results" / "seeds", *args.against_from]
    reference = pd.concat([read_predictions(folder) for folder in sources])
    missing = [c for c in args.against if c not in set(reference.config)]
    if missing:
        raise ValueError(f"No predictions of {missing} in {[str(f) for f in sources]}.")
    args.out.mkdir(parents=True, exist_ok=True)
    eval_sets = {n: data.load_eval_set(n) for n in seeds.eval_sets}
    checksum = data.data_fingerprint(seeds.sets_for(args.config) + seeds.eval_sets)
    models = {int(run.parent.name.rsplit("-seed", 1)[1]): SentenceTransformer(str(run), device="cpu")
              for run in runs}
    if args.soup:
        models = {-1: weight_average(list(models.values()))}
    tables = []
    for seed, model in models.items():
        tables.append(evaluate_model(
            model, eval_sets, seeds.dims,
            predictions_csv=args.out / "predictions.csv.gz", profile=f"probe:{args.models.name}",
            config=args.label, seed=seed, model=args.models.name, commit=git_commit(), data_checksum=checksum))
    pd.concat(tables).to_csv(args.out / "scores.csv", index=False)
    predictions = pd.concat([read_predictions(args.out), reference])
    table = comparison_table(predictions, [(args.label, c) for c in args.against], list(seeds.eval_sets), seeds.dims)
    table.to_csv(args.out / "comparisons.csv", index=False)
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
