import pandas as pd
import pytest

from gatelib.results import (
    SCORE_COLUMNS,
    UNRECORDED,
    UNTRAINED_PRECISION,
    atomic_write_csv,
    mark_trained_precision,
    read_scores,
    record_scores,
    trained_precision,
)


def _rows(value, seed=0, commit="c"):
    return pd.DataFrame([{
        "profile": "t", "config": "mrl", "seed": seed, "task": "sts17-ar-ar", "dim": 8,
        "spearman_cosine": value, "pearson_cosine": value, "n_pairs": 3, "n_truncated": 0, "model": "m",
        "commit": commit, "data_checksum": "d", "max_seq_length": 32, "hardware": "cpu",
        "precision": "bf16"}])[SCORE_COLUMNS]


def test_commits_that_look_like_numbers_survive_an_upsert(tmp_path):
    """A short sha such as 4540097e89 is a float literal to pandas: it must stay text."""
    path = tmp_path / "scores.csv"
    record_scores(_rows(1.0, commit="4540097e89"), path)
    record_scores(_rows(2.0, seed=1, commit="0123456789"), path)
    assert list(read_scores(tmp_path).commit) == ["4540097e89", "0123456789"]


def test_record_scores_upserts_by_key(tmp_path):
    path = tmp_path / "scores.csv"
    record_scores(_rows(1.0), path)
    record_scores(_rows(2.0, seed=1), path)
    table = record_scores(_rows(3.0), path)  # same key as the first row: replaced
    assert len(table) == 2
    assert sorted(pd.read_csv(path).spearman_cosine) == [2.0, 3.0]


def test_failed_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "scores.csv"
    record_scores(_rows(1.0), path)
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write_csv(_rows(9.0), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]  # no temp file left behind


def test_rows_written_before_the_precision_column_read_back_as_unrecorded(tmp_path):
    path = tmp_path / "scores.csv"
    _rows(1.0).drop(columns="precision").to_csv(path, index=False)  # a table from before the column
    table = record_scores(_rows(2.0, seed=1), path)
    assert list(table.precision) == [UNRECORDED, "bf16"]
    assert list(read_scores(tmp_path).precision) == [UNRECORDED, "bf16"]


def test_a_model_carries_the_precision_it_was_trained_in():
    class Model:
        pass

    model = Model()
    assert trained_precision(model) == UNTRAINED_PRECISION
    mark_trained_precision(model, "fp32")
    assert trained_precision(model) == "fp32"


def test_a_profile_read_back_holds_one_data_version(tmp_path):
    """Runs trained on different data never meet in one table: reading them names the runs of each
    version and the command that retrains them; a retrained run replaces its old rows."""
    from gatelib.results import DataVersionError

    path = tmp_path / "scores.csv"
    record_scores(_rows(1.0), path)
    record_scores(_rows(2.0, seed=1), path)
    record_scores(_rows(3.0).assign(data_checksum="e"), path)  # seed 0 retrained on new data
    with pytest.raises(DataVersionError, match=r"2 data versions \((d: mrl seed 1; e: mrl seed 0|e: mrl seed 0; d: mrl seed 1)\)"
                                               r".*--profile t"):
        read_scores(tmp_path)
    record_scores(_rows(4.0, seed=1).assign(data_checksum="e"), path)
    assert set(read_scores(tmp_path).data_checksum) == {"e"}
