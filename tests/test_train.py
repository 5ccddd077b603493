"""gatelib.train: runs from the command line, in one process and under torchrun (gloo, 2 CPU processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gatelib import train
from gatelib.training import COMPLETE_MARKER, last_complete_checkpoint

TESTS = Path(__file__).parent

# One run of the tiny encoder (dropout 0, so a step does not depend on the random stream) through
# gatelib.train.train_and_score, as a file torchrun can start. argv: project root, per-process batch.
WORKER = """
import dataclasses, json, os, pathlib, sys
sys.path.insert(0, {tests!r})
from datasets import Dataset
from gatelib import profiles, train
from conftest import toy_sentences
root, batch = pathlib.Path(sys.argv[1]), int(sys.argv[2])
(root / f"pid-{{os.environ.get('RANK', '0')}}").parent.mkdir(parents=True, exist_ok=True)
(root / f"pid-{{os.environ.get('RANK', '0')}}").write_text(str(os.getpid()))
profiles.PROJECT_ROOT = root
base = profiles.load_profile("smoke")
cfg = dataclasses.replace(base, base_model={model!r}, matryoshka_dims=(32, 16, 8), eval_dims=(32, 8), device="cpu",
    train_sets=("t",), configs=("mnrl",), training=dataclasses.replace(base.training, batch_size=batch,
    max_steps={steps}, save_steps=2, max_seq_length=32, warmup_ratio=0.0))
anchors = [f"w{{i}} w{{(i * 7) % 60}} w{{(i * 11 + 3) % 60}}" for i in range(64)]  # no two alike
pairs = Dataset.from_dict({{"anchor": anchors, "positive": [a + " w1" for a in anchors]}})
sts = Dataset.from_dict({{"sentence1": toy_sentences(40), "sentence2": toy_sentences(40, offset=1),
                         "score": [(i % 6) / 5 for i in range(40)]}})
train.train_and_score(cfg, [("mnrl", 0)], {{"t": pairs}}, {{"toy": sts}}, commit="test", data_checksum="test")
"""


@pytest.fixture(scope="module")
def dropout_free_encoder(tmp_path_factory):
    from conftest import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-no-dropout"), dropout=0.0)


def _start(script: Path, root: Path, batch: int, processes: int) -> subprocess.Popen:
    launcher = ([sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
                 "--standalone"] if processes > 1 else [sys.executable])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log = open(root.with_suffix(".log"), "w")
    return subprocess.Popen([*launcher, str(script), str(root), str(batch)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)


def _finish(proc: subprocess.Popen, root: Path, timeout: float = 300) -> str:
    proc.wait(timeout=timeout)
    return root.with_suffix(".log").read_text()


def _run_folder(root: Path) -> Path:
    return root / "models" / "smoke" / "mnrl-seed0"


def _losses(root: Path) -> list[float]:
    history = json.loads((_run_folder(root) / "final" / "log_history.json").read_text())
    return [row["loss"] for row in history if "loss" in row]


def _embeddings(root: Path) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    from conftest import toy_sentences

    return SentenceTransformer(str(_run_folder(root) / "final"), device="cpu").encode(toy_sentences(16))


def test_two_processes_match_one_process_with_their_joint_batch_and_resume_after_a_killed_worker(
        dropout_free_encoder, tmp_path):
    """2 × 8 under torchrun (gloo) is 1 × 16: each process's loss sees all 16 candidates
    (gather_across_devices), DDP averages the gradients; only the first process writes the
    scores. A SIGKILLed worker stops the job; the same command resumes from the last checkpoint."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(tests=str(TESTS), model=str(dropout_free_encoder), steps=8))

    one, two = tmp_path / "one", tmp_path / "two"
    for root, batch, processes in ((one, 16, 1), (two, 8, 2)):
        log = _finish(_start(script, root, batch, processes), root)
        assert (_run_folder(root) / "final" / COMPLETE_MARKER).is_file(), log[-3000:]
    np.testing.assert_allclose(_losses(two), _losses(one), rtol=1e-5)
    np.testing.assert_allclose(_embeddings(two), _embeddings(one), atol=1e-5)
    history = json.loads((_run_folder(two) / "final" / "log_history.json").read_text())
    assert history[-1]["processes"] == 2 and len(_losses(two)) == 8
    scores = {r: pd.read_csv(r / "results" / "smoke" / "scores.csv") for r in (one, two)}
    assert len(scores[two]) == 2 and set(scores[two].dim) == {32, 8}  # one writer: one row per dim
    np.testing.assert_allclose(scores[two].spearman_cosine, scores[one].spearman_cosine, atol=1e-3)

    killed = tmp_path / "killed"
    proc = _start(script, killed, 8, 2)
    checkpoints = _run_folder(killed) / "checkpoints"
    deadline = time.time() + 240

    def whole_from(step):  # both processes' parts written: each saves its own RNG state into a checkpoint
        last = last_complete_checkpoint(checkpoints, processes=2)
        return last is not None and int(last.name.split("-")[-1]) >= step

    while not whole_from(4) and time.time() < deadline:
        assert proc.poll() is None, killed.with_suffix(".log").read_text()[-3000:]
        time.sleep(0.05)
    os.kill(int((killed / "pid-1").read_text()), signal.SIGKILL)
    log = _finish(proc, killed)
    assert proc.returncode != 0 and "ChildFailedError" in log and "Signal 9 (SIGKILL)" in log, log[-3000:]
    assert not (_run_folder(killed) / "final" / COMPLETE_MARKER).exists(), "finished before the kill"

    log = _finish(_start(script, killed, 8, 2), killed)
    assert "Resuming smoke/mnrl seed 0 from checkpoint-" in log, log[-3000:]
    np.testing.assert_allclose(_embeddings(killed), _embeddings(two), atol=1e-5)


@pytest.mark.parametrize("argv, named", [(["--profile", "no-such-profile"], "no-such-profile"),
                                         (["--profile", "smoke", "--config", "no-such-config"], "no-such-config")])
def test_command_line_rejects_an_unknown_profile_or_config(argv, named, capsys):
    with pytest.raises(SystemExit) as exit_:
        train.main(argv)
    assert exit_.value.code == 2 and named in capsys.readouterr().err
