"""Train and score runs of a profile from the command line, in one process or under ``torchrun``.

``notebooks/02_training`` trains and scores every run of a profile; this entry does the same for
the runs named on the command line, through the same ``gatelib.training.train_model`` and
``gatelib.evaluation.evaluate_model``, and writes to the same ``results/<profile>/`` store::

    python -m gatelib.train --profile seeds --config mrl --seed 0 1
    torchrun --nproc_per_node=4 -m gatelib.train --profile grid --config mrl --seed 0

Under ``torchrun`` each process trains on its own batches of ``batch_size`` (the job's batch is
``N × batch_size``) and the contrastive losses gather the other processes' candidates, so the
in-batch negatives are those of one process with the job's batch. Only the first process
writes checkpoints, the model and the score rows. A job whose process dies stops as a whole
(``torchrun``'s default); the same command resumes it from its last complete checkpoint.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from datasets import Dataset

from gatelib import data
from gatelib.evaluation import evaluate_model, record_scores
from gatelib.models import load_base_model
from gatelib.profiles import Profile, ProfileError, load_profile
from gatelib.provenance import git_commit
from gatelib.recipes import TRAINED_CONFIGS, UNTRAINED
from gatelib.training import resolve_device, train_model

logger = logging.getLogger(__name__)


def first_process() -> bool:
    """True in a single process and in the first process of a ``torchrun`` job (``RANK`` 0)."""
    return int(os.environ.get("RANK", "0")) == 0


def train_and_score(cfg: Profile, runs, train_sets: dict[str, Dataset], eval_sets: dict[str, Dataset],
                    **tags) -> None:
    """Train each (config, seed) of ``runs`` on ``train_sets`` and, in the first process, upsert its
    scores on ``eval_sets`` (all of them when empty: train only) into ``results/<profile>/``. ``tags``:
    ``commit`` and ``data_checksum`` of the score rows."""
    writes = bool(eval_sets) and first_process()
    tags = dict(profile=cfg.name, **tags)
    scores_csv, predictions_csv = cfg.results_dir / "scores.csv", cfg.results_dir / "predictions.csv.gz"
    for config, seed in runs:
        if config == UNTRAINED:  # scored once, as seed 0 (it has no seed), like notebooks/02_training
            if writes and seed == cfg.seeds[0]:
                model = load_base_model(cfg.base_model, device=resolve_device(cfg.device))
                record_scores(evaluate_model(model, eval_sets, cfg.dims, config=UNTRAINED, seed=0,
                                             predictions_csv=predictions_csv, model=cfg.base_model, **tags),
                              scores_csv)
            continue
        if config not in TRAINED_CONFIGS:
            raise ProfileError(f"{config} is neither the untrained base model nor a trained config.")
        model, _ = train_model(cfg, config, seed, train_sets)
        if writes:
            record_scores(evaluate_model(model, eval_sets, cfg.dims, config=config, seed=seed,
                                         predictions_csv=predictions_csv,
                                         model=f"{cfg.base_model}+{config}", **tags), scores_csv)
        logger.info("%s/%s seed %d done", cfg.name, config, seed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="a file name in params/ without .yaml")
    parser.add_argument("--config", nargs="+", help="these of the profile's configs (default: all)")
    parser.add_argument("--seed", nargs="+", type=int, help="these of the profile's seeds (default: all)")
    parser.add_argument("--no-score", action="store_true", help="train only; the notebooks score later")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        cfg = load_profile(args.profile)
        runs = cfg.runs(args.config, args.seed)
        train_sets = data.load_named_sets(cfg.all_train_sets, max_rows=cfg.max_train_rows, seed=cfg.seeds[0],
                                          held_out=cfg.eval_sets)
        eval_sets = {} if args.no_score or not first_process() else data.load_named_sets(cfg.eval_sets)
        train_and_score(cfg, runs, train_sets, eval_sets, commit=git_commit(),
                        data_checksum=data.data_fingerprint(cfg.all_train_sets + cfg.eval_sets))
    except ProfileError as err:  # a name outside the profile: argparse's usage error (exit status 2)
        parser.exit(2, f"error: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
