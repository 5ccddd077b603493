"""Provenance tags carried by every results row and figure: profile, seed, commit, data."""

from __future__ import annotations

import os
import subprocess

from gatelib.profiles import PROJECT_ROOT


def git_commit() -> str:
    """Short commit of the project (``+dirty`` if the tree has uncommitted changes).

    ``$GATE_COMMIT``, when set, wins: a copy of the tree run elsewhere (the GPU job) may carry a
    stale ``.git``. Without git the answer is ``unknown``.
    """
    if os.environ.get("GATE_COMMIT"):
        return os.environ["GATE_COMMIT"]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
            text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "gatelib", "params", "data"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance_line(profile: str, seeds, data_checksum: str, commit: str | None = None) -> str:
    """One line for captions: ``profile=… seeds=… commit=… data=sha256:…``."""
    seeds = ",".join(str(s) for s in seeds) if not isinstance(seeds, (int, str)) else seeds
    return f"profile={profile} seeds={seeds} commit={commit or git_commit()} data=sha256:{data_checksum}"
