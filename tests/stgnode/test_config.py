"""TOML configs: shipped files, overrides, refusals and the round trip of the resolved config."""

from __future__ import annotations

import tomllib

import pytest

from stgnode.config import (
    ConfigError,
    available,
    dumps_toml,
    load_config,
    merge_overrides,
    parse_override,
)

SHIPPED = {
    "ntu60-xsub",
    "ntu60-xview",
    "ntu120-xsub",
    "ntu120-xset",
    "kinetics",
    "demo",
    "msr3d-xsub",
}


def test_every_shipped_config_loads_and_round_trips():
    assert set(available()) >= SHIPPED
    for name in available():
        config = load_config(name)
        assert config["name"] == name
        assert tomllib.loads(dumps_toml(config)) == config


def test_paper_settings():
    config = load_config("ntu60-xsub")
    assert config["optim"] == {
        "name": "sgd",
        "lr": 0.15,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 1e-4,
    }
    assert config["train"]["batch_size"] == 64 and config["train"]["epochs"] == 80
    assert config["schedule"]["warmup_epochs"] == 5 and config["data"]["split"] == "xsub"
    assert load_config("ntu120-xset")["data"]["split"] == "xset"


def test_overrides_are_typed_toml_values():
    config = load_config(
        "demo", ["optim.lr=0.3", "train.epochs=2", "model.name=st-gcn", "model.channels=[8, 16]"]
    )
    assert config["optim"]["lr"] == 0.3 and config["train"]["epochs"] == 2
    assert config["model"]["name"] == "st-gcn" and config["model"]["channels"] == [8, 16]
    assert config["model"]["strides"] == load_config("demo")["model"]["strides"]  # kept
    assert (
        load_config("demo", ["optim.lr=1"])["optim"]["lr"] == 1.0
    )  # int where a float is expected
    assert parse_override("data.stream=bone-motion") == {"data": {"stream": "bone-motion"}}
    assert (
        merge_overrides(config, ["train.seed=5"])["train"]["seed"] == 5
        and config["train"]["seed"] == 0
    )


def test_refusals_name_the_file_and_the_key(tmp_path):
    with pytest.raises(
        ConfigError, match=r"override 'optim.lrr=0.1'.*unknown key 'optim.lrr'.*'lr'"
    ):
        load_config("demo", ["optim.lrr=0.1"])
    with pytest.raises(ConfigError, match=r"'train.epochs' must be int"):
        load_config("demo", ["train.epochs=many"])
    with pytest.raises(ConfigError, match=r"'train.deterministic' must be bool"):
        load_config("demo", ["train.deterministic=1"])
    with pytest.raises(ConfigError, match="not of the form key=value"):
        load_config("demo", ["train.epochs"])
    with pytest.raises(ConfigError, match="unknown config 'nope'; shipped"):
        load_config("nope")
    bad = tmp_path / "mine.toml"
    bad.write_text("[train]\nepochs = 3\nbatch = 4\n")
    with pytest.raises(ConfigError, match=rf"{bad}: unknown key 'train.batch'"):
        load_config(bad)
    bad.write_text("[train\n")
    with pytest.raises(ConfigError, match=rf"{bad}: invalid TOML"):
        load_config(bad)
    good = tmp_path / "mine.toml"
    good.write_text('[train]\nepochs = 3\n[data]\nstream = "bone"\n')
    assert load_config(good)["train"]["epochs"] == 3 and load_config(good)["name"] == "mine"


def test_writer_escapes_strings_and_nests_tables():
    config = {
        "name": 'a "quoted"\\ name\n',
        "a": {"b": {"c": [1.5, float("inf")], "d": True}, "e": []},
    }
    assert tomllib.loads(dumps_toml(config)) == config


def test_a_split_config_extends_its_recipe_and_states_only_the_split():
    for child, parent, split in [
        ("nwucla-xview", "msr3d-xsub", "xview"),
        ("ntu60-xview", "ntu60-xsub", "xview"),
        ("ntu120-xset", "ntu60-xsub", "xset"),  # through ntu120-xsub
    ]:
        expected = load_config(parent, [f"data.split={split}"])
        assert load_config(child) == {**expected, "name": child}


def test_extends_takes_names_and_relative_files_and_refuses_cycles(tmp_path):
    (tmp_path / "sub").mkdir()
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('extends = "demo"\n[optim]\nlr = 0.3\n[train]\nepochs = 7\n')
    mine = tmp_path / "sub" / "mine.toml"
    mine.write_text('extends = "../recipe.toml"\n[train]\nepochs = 9\n')
    config = load_config(mine, ["train.seed=4"])
    assert config == load_config("demo", ["optim.lr=0.3", "train.epochs=9", "train.seed=4"]) | {
        "name": "mine"
    }
    recipe.write_text('extends = "sub/mine.toml"\n')
    with pytest.raises(
        ConfigError,
        match=rf"{recipe}: 'extends' makes a cycle: .*mine.toml -> .*recipe.toml -> .*mine.toml$",
    ):
        load_config(mine)
    recipe.write_text("extends = 3\n")
    with pytest.raises(ConfigError, match=rf"{recipe}: 'extends' must name a config"):
        load_config(mine)
    recipe.write_text('extends = "nope"\n')
    with pytest.raises(ConfigError, match="unknown config 'nope'"):
        load_config(mine)
    recipe.write_text('extends = "demo"\n[optim]\nrate = 0.3\n')
    with pytest.raises(ConfigError, match=rf"{recipe}: unknown key 'optim.rate'"):
        load_config(mine)
