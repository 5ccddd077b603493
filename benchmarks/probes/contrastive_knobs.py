"""Probe (book/ideas.md): the in-batch contrastive loss itself — its temperature, a guide, the lr.

    python benchmarks/probes/contrastive_knobs.py --scale 100 --seed 0 --out /tmp/scale100.csv
    python benchmarks/probes/contrastive_knobs.py --guide --seed 0 --out /tmp/gist.csv
    python benchmarks/probes/contrastive_knobs.py --lr 5e-5 --seed 0 --out /tmp/lr5e-5.csv

The seeds profile's ``mnrl-dialects`` recipe (or ``--config``) with one knob of its contrastive
loss changed, everything else as in the seeds part (``--config mnrl-dialects --guide --scale 100`` is
the recipe that became the config ``mnrl-dialects-guided``):

* ``--scale``: MNRL's logit scale (the library's and GATE's 20 is a temperature of 0.05; E5 was
  pre-trained with 0.01, scale 100, so its cosines sit in a narrow band that scale 20 stretches);
* ``--guide``: GISTEmbedLoss (Solatorio 2024, arXiv 2402.16829) with the *untrained* model as
  guide: an in-batch negative the guide rates above the positive is a likely false negative
  (NLI premises repeat, paraphrase sets overlap) and is masked out; temperature ``1/scale``;
* ``--lr``: the peak learning rate (seeds profile 2e-5, the paper's).

Models go to ``models/probe-knobs-<knob>/``; the scores of every eval set at every dim to ``--out``.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import gatelib.losses
from gatelib import data
from gatelib.evaluation import evaluate_model
from gatelib.models import load_base_model
from gatelib.profiles import load_profile
from gatelib.provenance import git_commit
from gatelib.training import resolve_device, train_model
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="mnrl-dialects")
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--guide", action="store_true")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    seeds = load_profile("seeds")
    knob = "-".join([f"scale{args.scale:g}"] + (["gist"] if args.guide else [])
                    + ([f"lr{args.lr:g}"] if args.lr else []))
    training = dataclasses.replace(seeds.training, learning_rate=args.lr or seeds.training.learning_rate)
    cfg = dataclasses.replace(seeds, name=f"probe-knobs-{args.config}-{knob}", configs=("zero-shot", args.config),
                              training=training)
    if args.guide:
        guide = load_base_model(cfg.base_model, device=resolve_device(cfg.device),
                                max_seq_length=training.max_seq_length)
        gatelib.losses.contrastive_loss = lambda model, *_: gatelib.losses.guided_contrastive_loss(
            model, guide, temperature=1 / args.scale)
    else:
        gatelib.losses.contrastive_loss = lambda model, *_: MultipleNegativesRankingLoss(
            model, scale=args.scale)
    train_sets = data.load_named_sets(cfg.sets_for(args.config), seed=cfg.seeds[0], held_out=cfg.eval_sets)
    model, _ = train_model(cfg, args.config, args.seed, train_sets)
    eval_sets = {n: data.load_eval_set(n) for n in cfg.eval_sets}
    table = evaluate_model(model, eval_sets, cfg.dims, profile=cfg.name, config=f"{args.config}-{knob}",
                           seed=args.seed, model=cfg.name, commit=git_commit(),
                           data_checksum=data.data_fingerprint(cfg.sets_for(args.config) + cfg.eval_sets))
    table.to_csv(args.out, index=False)
    print(table.pivot_table(index="dim", columns="task", values="spearman_cosine").round(2).to_string())


if __name__ == "__main__":
    main()
