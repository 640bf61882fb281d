"""Build parameters are declared once (skelprep.build.params): the `skelprep build` options,
the store's attrs `build`, the reader options and the docs follow from that declaration."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from skelprep.build.params import PARAMS, BuildParams, differences
from skelprep.commands.build import build
from skelprep.read_options import ReadOptions

ROOT = Path(__file__).resolve().parents[2]

# The attrs `build` of a default NTU60 build: keys, nesting, renames (align -> alignment) and
# order. Existing stores are reused only while the keys they hold keep their names and values
# (a key added later counts as its default there: test_a_store_without_a_newer_parameter...).
DEFAULT_ATTRS = (
    '{"dataset": "ntu60", "max_frames": 300, "max_bodies": 2, "alignment": true, '
    '"alignment_heading": true, '
    '"sample_set": "default", "layout": "", "unlabelled": false, "denoise": '
    '{"min_body_frames": 11, "spread_ratio": 0.8, "noisy_frame_fraction": 0.69754}, '
    '"chunk_size": 64, "dtw": {"radius": 1, "metric": "manhattan", "diagonal_weight": 1.0, '
    '"samples_per_class": 0}, "semantic": {"rule": "gaussian", "eps": 0.6, "sigma": 0.1, '
    '"k": 3}, "strict": false}'
)


def _parsed(*args: str) -> dict:
    """The values `skelprep build` parses from `args` (click's own parsing; nothing runs)."""
    return build.make_context("build", ["--dataset", "ntu60", *args]).params


def test_attrs_keep_the_shape_existing_stores_were_written_with() -> None:
    assert json.dumps(BuildParams(dataset="ntu60").to_attrs()) == DEFAULT_ATTRS


def test_a_store_without_a_newer_parameter_counts_as_its_default() -> None:
    """Stores written before `alignment_heading` existed are reused by a default build, and
    rebuilt by one that asks for the other value."""
    requested = {"build": BuildParams(dataset="ntu60").to_attrs(), "source": {"fingerprint": "f"}}
    older = {**requested, "build": dict(requested["build"])}
    del older["build"]["alignment_heading"]
    assert differences(older, requested) == []
    level = {**requested, "build": BuildParams(dataset="ntu60", align_heading=False).to_attrs()}
    assert differences(older, level) == [("build.alignment_heading", True, False)]
    older["build"]["alignment"] = None
    assert differences(older, requested) == [("build.alignment", None, True)]


def test_a_policy_parameter_never_counts_as_a_difference() -> None:
    """`--strict` is policy, not content: it is no difference either way (whether --strict may
    keep a store is build.decide's, tested in test_build)."""
    stored = {"build": BuildParams(dataset="ntu60").to_attrs(), "source": {"fingerprint": "f"}}
    strict = {**stored, "build": BuildParams(dataset="ntu60", strict=True).to_attrs()}
    assert differences(stored, strict) == [] and differences(strict, stored) == []


def test_the_reader_parameters_are_exactly_the_read_options_with_their_defaults() -> None:
    read = {p.name: p.default for p in PARAMS if p.read}
    assert read == {f.name: f.default for f in dataclasses.fields(ReadOptions)}
    params = BuildParams(dataset="ntu60", max_frames=50, align=False, spread_ratio=0.5)
    assert params.read_options() == ReadOptions(max_frames=50, align=False, spread_ratio=0.5)


def test_defaults_on_the_command_line_are_the_declared_defaults() -> None:
    values = _parsed()
    assert BuildParams(**{p.name: values[p.name] for p in PARAMS if p.cli}) == BuildParams(
        dataset="ntu60"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--no-align"], {"align": False}),
        (["--no-align-heading"], {"align_heading": False}),
        (["--strict", "--unlabelled"], {"strict": True, "unlabelled": True}),
        (["--layout", "openpose18", "--k", "5"], {"layout": "openpose18", "k": 5}),
        (
            ["--dtw-radius", "2", "--dtw-metric", "euclidean"],
            {"dtw_radius": 2, "dtw_metric": "euclidean"},
        ),
        (["--chunk-size", "8", "--eps", "0.3"], {"chunk_size": 8, "eps": 0.3}),
    ],
)
def test_each_flag_sets_its_parameter(args: list[str], expected: dict) -> None:
    values = _parsed(*args)
    assert {name: values[name] for name in expected} == expected


def test_every_option_of_build_has_help() -> None:
    undocumented = [o.opts[0] for o in build.params if not getattr(o, "help", None)]
    assert undocumented == []


def test_the_store_format_lists_every_parameter_with_its_option_and_kind() -> None:
    text = (ROOT / "docs" / "store-format.md").read_text()
    section = text.split("## Build parameters (attrs `build`)")[1].split("\n## ")[0]
    rows = [line.split("|")[1:4] for line in section.splitlines() if line.startswith("| `")]
    documented = {key.strip().strip("`"): (option, kind.strip()) for key, option, kind in rows}
    kinds = {
        p.attrs_key: "policy"
        if p.policy
        else "semantic"
        if p.attrs_key.startswith("semantic.")
        else "content"
        for p in PARAMS
    }
    assert {key: kind for key, (_, kind) in documented.items()} == kinds
    for param in PARAMS:
        option = documented[param.attrs_key][0]
        assert (f"`{param.flag}`" in option) == param.cli, (param.name, option)


def test_a_value_below_its_minimum_is_refused_naming_the_option() -> None:
    with pytest.raises(ValueError, match="--max-frames out of range: 0"):
        BuildParams(dataset="ntu60", max_frames=0).check()
    with pytest.raises(ValueError, match="--dtw-samples-per-class out of range: -1"):
        BuildParams(dataset="ntu60", dtw_samples_per_class=-1).check()
