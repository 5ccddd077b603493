import re

from gatelib.provenance import git_commit, provenance_line


def test_commit_is_a_short_hash_or_explicit_unknown(monkeypatch):
    monkeypatch.delenv("GATE_COMMIT", raising=False)
    assert re.fullmatch(r"[0-9a-f]{10}(\+dirty)?|unknown", git_commit())


def test_explicit_commit_wins_over_a_stale_git_copy(monkeypatch):
    """The GPU job runs a copy of the tree whose .git may be older than the code it runs."""
    monkeypatch.setenv("GATE_COMMIT", "702d38eead")
    assert git_commit() == "702d38eead"


def test_no_git_means_unknown(monkeypatch):
    from gatelib import provenance

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.delenv("GATE_COMMIT", raising=False)
    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert git_commit() == "unknown"


def test_provenance_line_format():
    line = provenance_line("offline", [0, 1, 2], "abcdef123456", commit="0123456789")
    assert line == "profile=offline seeds=0,1,2 commit=0123456789 data=sha256:abcdef123456"
