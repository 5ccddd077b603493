"""gatelib.recipes: every trained config is one entry, and no other module switches on its name."""

import ast
import dataclasses
from pathlib import Path

import pytest

from gatelib import recipes
from gatelib.losses import KINDS
from gatelib.profiles import Profile
from gatelib.recipes import COMPARED_WITH, CONFIGS, RECIPES, STARTS_FROM, TRAINED_CONFIGS, UNTRAINED, Recipe

GATELIB = Path(recipes.__file__).parent


def test_recipes_name_what_exists():
    profile_keys = {f.name for f in dataclasses.fields(Profile)}
    for name, recipe in RECIPES.items():
        assert recipe.name == name
        assert set(recipe.data) <= profile_keys  # the profile keys it reads its sets from
        assert set(recipe.compared_with) <= set(CONFIGS) - {name}
        assert recipe.starts_from is None or recipe.starts_from in RECIPES
    assert CONFIGS == (UNTRAINED, *TRAINED_CONFIGS) and UNTRAINED not in RECIPES
    assert set(recipes.DATASET_KINDS) == set(KINDS)  # the kinds gatelib.losses tells from a dataset's columns
    assert STARTS_FROM == {"hybrid-paper": "mrl"}
    assert set(COMPARED_WITH) == set(TRAINED_CONFIGS) - {"mnrl"}  # mnrl is the control of mrl
    assert COMPARED_WITH["mrl-dialects"] == ("mrl", "mnrl-dialects")  # its one change, and MRL vs its control


def test_the_paper_recipes_are_what_gate_describes():
    mrl, control, stage2 = RECIPES["mrl"], RECIPES["mnrl"], RECIPES["hybrid-paper"]
    assert mrl.matryoshka == {"contrastive"} and mrl.matryoshka_weights is None and mrl.scale == 20.0  # Eq. 1
    assert control == dataclasses.replace(mrl, name="mnrl", matryoshka=frozenset(), compared_with=())  # MRL minus Matryoshka
    assert stage2.kinds == {"nli", "scored"} and stage2.starts_from == "mrl" and stage2.hyperparameters == "stage2"
    contaminated = RECIPES["mrl-contaminated"]
    assert dataclasses.replace(contaminated, name="mrl", contaminated=False, compared_with=("mnrl",)) == mrl  # other data


@pytest.mark.parametrize("change, message", [
    ({"data": ("train_sets", "extra_sets")}, "data roles"),
    ({"matryoshka": frozenset({"nli"})}, "matryoshka"),
    ({"contrastive": "infonce"}, "contrastive"),
    ({"hyperparameters": "stage3"}, "hyperparameters"),
    ({"scale": 0.0}, "positive"),
])
def test_an_impossible_recipe_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        Recipe("x", **change)


def _names_compared(node: ast.Compare) -> set[str]:
    """Recipe names a comparison tests a value against (``x == "mrl-mined"``, ``x in ("mnrl", …)``)."""
    found = set()
    for side in [node.left, *node.comparators]:
        items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
        found |= {i.value for i in items if isinstance(i, ast.Constant) and i.value in RECIPES}
    return found


def test_no_module_but_recipes_switches_on_a_recipe_name():
    switches = {}
    for path in sorted(GATELIB.glob("*.py")):
        if path.name == "recipes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and _names_compared(node):
                switches.setdefault(path.name, []).append((node.lineno, sorted(_names_compared(node))))
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value in RECIPES
                                                  for k in node.keys):
                switches.setdefault(path.name, []).append((node.lineno, "dict keyed by recipe names"))
    assert not switches, f"recipe names used as switches outside gatelib.recipes: {switches}"
