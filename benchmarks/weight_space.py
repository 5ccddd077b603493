"""Weight-space probes (book/ideas.md): average finished models instead of training new ones.

    python benchmarks/weight_space.py soup --profile probes/guided --config mnrl-dialects-guided
    python benchmarks/weight_space.py wise-ft --profile seeds --config mrl mnrl --weights 0.5 0.7 0.85

* ``soup``: the uniform average of the weights of a config's finished seeds (a "model soup",
  Wortsman et al. 2022, ICML, arXiv 2203.05482): one model, recorded as config ``<config>-soup``
  with seed -1 (it is no one seed);
* ``wise-ft``: WiSE-FT (Wortsman et al. 2022, CVPR, arXiv 2109.01903), for each seed and weight
  ``a``: theta = (1 - a) * untrained + a * trained, recorded as config ``<config>-wise<a>``.

Neither trains anything, so neither is a profile of its own: both read the finished runs of a
profile (``python -m gatelib.train --profile P``) and score them on its test sets through the
results store (commit, data checksum, hardware) into ``results/weight-space/``, each row naming the
profile whose models it averages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatelib import data
from gatelib.evaluation import evaluate_model, record_scores
from gatelib.models import load_base_model
from gatelib.profiles import PROJECT_ROOT, ProfileError, load_profile
from gatelib.provenance import git_commit
from gatelib.training import load_trained_model

OUT = PROJECT_ROOT / "results" / "weight-space"


def interpolate(states: list[dict], weights: list[float] | None = None) -> dict:
    """``sum_i weights[i] * states[i]`` for every floating-point tensor, the plain mean when
    ``weights`` is None (the rest: the first state's)."""
    if not states or (weights is not None and len(states) != len(weights)):
        raise ValueError(f"{len(states)} models and {len(weights or ())} weights")
    mix = (lambda k: sum(s[k] for s in states) / len(states)) if weights is None else \
        (lambda k: sum(w * s[k] for w, s in zip(weights, states)))
    return {k: mix(k) if v.is_floating_point() else v for k, v in states[0].items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["soup", "wise-ft"])
    parser.add_argument("--profile", required=True)
    parser.add_argument("--config", nargs="+", required=True)
    parser.add_argument("--weights", nargs="+", type=float, default=[0.5, 0.7, 0.85],
                        help="wise-ft: the trained model's weights a")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        cfg = load_profile(args.profile)
        unknown = [c for c in args.config if c not in cfg.configs]
        if unknown:
            raise ProfileError(f"{unknown} are not configs of {cfg.name}: {list(cfg.configs)}")
    except ProfileError as err:
        parser.exit(2, f"error: {err}\n")
    eval_sets = data.load_named_sets(cfg.eval_sets)
    tags = dict(profile=cfg.name, commit=git_commit(), data_checksum=data.data_fingerprint(cfg.all_train_sets + cfg.eval_sets))
    args.out.mkdir(parents=True, exist_ok=True)

    def score(model, config: str, seed: int) -> None:
        table = evaluate_model(model, eval_sets, cfg.dims, predictions_csv=args.out / "predictions.csv.gz",
                               config=config, seed=seed, model=f"{cfg.base_model}+{config}", **tags)
        record_scores(table, args.out / "scores.csv")
        print(config, seed, table.query("task == 'sts17-ar-ar'").set_index("dim").spearman_cosine.round(2).to_dict())

    for config in args.config:
        models = [load_trained_model(cfg, config, seed) for seed in cfg.seeds]
        if args.kind == "soup":
            soup = models[0]
            soup.load_state_dict(interpolate([m.state_dict() for m in models]))
            score(soup, f"{config}-soup", -1)
            continue
        untrained = load_base_model(cfg.base_model, device="cpu").state_dict()
        for seed, model in zip(cfg.seeds, models):
            trained = {k: v.clone() for k, v in model.state_dict().items()}
            for a in args.weights:
                model.load_state_dict(interpolate([untrained, trained], [1 - a, a]))
                score(model, f"{config}-wise{a:g}", seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
