import re

from gatelib.provenance import git_commit, provenance_line


def test_commit_is_a_short_hash_or_explicit_unknown():
    assert re.fullmatch(r"[0-9a-f]{10}(\+dirty)?|unknown", git_commit())


def test_provenance_line_format():
    line = provenance_line("offline", [0, 1, 2], "abcdef123456", commit="0123456789")
    assert line == "profile=offline seeds=0,1,2 commit=0123456789 data=sha256:abcdef123456"
