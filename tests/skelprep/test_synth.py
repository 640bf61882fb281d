"""Tests of `skelprep synth`: real raw formats, round trip through the strict reader, determinism,
and that sequence length alone does not reveal the class."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from skelprep.commands.synth import synth
from skelprep.readers.ntu import parse_ntu_skeleton
from skelprep.splits import NTU60_XSUB_TRAIN_SUBJECTS
from skelprep.synth import SampleSpec, SynthSize, generate, plan, record
from skelprep.synth.ntu_format import MISSING_LIST, as_written
from skelprep.synth.take import perform

SMALL = {"classes": 5, "subjects": 2, "cameras": 2, "repetitions": 2, "empty_fraction": 0.1}
# A token of a real .skeleton file: integer, decimal, or C#-style exponent (E-05).
TOKEN = re.compile(r"^-?\d+(\.\d+)?(E[-+]\d\d)?$")


@pytest.fixture(scope="module")
def ntu_set(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("synth") / "ntu"
    return generate("ntu", out, seed=7, **SMALL)


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_ntu_files_round_trip_through_the_strict_reader(ntu_set):
    assert len(ntu_set.samples) == 5 * 2 * 2 * 2
    for name in ntu_set.samples:
        parsed = parse_ntu_skeleton(ntu_set.out / f"{name}.skeleton")
        intended = record(SampleSpec.parse(name), ntu_set.seed, empty=name in ntu_set.empty)
        assert parsed.num_frames == intended.num_frames
        assert [b.body_id for b in parsed.bodies] == [str(t.body_id) for t in intended.tracks]
        per_frame = np.zeros(intended.num_frames, dtype=int)
        for body, track in zip(parsed.bodies, intended.tracks, strict=True):
            np.testing.assert_array_equal(body.frame_index, track.frames)
            np.testing.assert_array_equal(body.xyz, as_written(track.xyz[:, :25]))
            np.testing.assert_array_equal(body.tracking, track.tracking)
            per_frame[track.frames] += 1
        np.testing.assert_array_equal(parsed.bodies_per_frame, per_frame)


def test_missing_skeleton_list_names_exactly_the_empty_samples(ntu_set):
    lines = (ntu_set.out / MISSING_LIST).read_text().split("\n")
    assert lines[0].startswith(f'{len(ntu_set.empty)} of the captured samples in the "NTU RGB+D"')
    assert lines[1].startswith("If you are working on skeleton-based analysis")
    assert lines[2] == ""
    assert [x for x in lines[3:] if x] == ntu_set.empty
    assert len(ntu_set.empty) == round(0.1 * len(ntu_set.samples))
    for name in ntu_set.empty:
        parsed = parse_ntu_skeleton(ntu_set.out / f"{name}.skeleton")
        assert parsed.num_frames > 0 and not parsed.bodies
        assert not parsed.bodies_per_frame.any()


def test_sensor_artefacts_and_two_person_classes_are_present(ntu_set):
    parsed = [parse_ntu_skeleton(ntu_set.out / f"{n}.skeleton") for n in ntu_set.samples]
    full = [p for n, p in zip(ntu_set.samples, parsed, strict=True) if n not in ntu_set.empty]
    assert any((b.tracking == 1).any() for p in full for b in p.bodies), "no inferred joint"
    assert any((p.bodies_per_frame == 0).any() for p in full), "no dropped frame"
    ghosts = [b for p in full for b in p.bodies if len(b.frame_index) <= 8]
    assert ghosts and all(np.ptp(b.xyz, axis=1).max() < 0.5 for b in ghosts)
    handshakes = [p for n, p in zip(ntu_set.samples, parsed, strict=True) if n.endswith("A058")]
    assert all(len(p.bodies) >= 2 for p in handshakes if p.bodies)
    depth = np.concatenate([b.xyz[..., 2].ravel() for p in full for b in p.bodies])
    assert depth.min() > 1.5 and depth.max() < 5.5


def test_ntu_bytes_follow_the_real_files(ntu_set, realdata):
    real = realdata / "LevelCA_NTU-RGB-D-skeleton-dataset-visualization"
    for path in [next(real.glob("*.skeleton")), ntu_set.out / f"{ntu_set.samples[0]}.skeleton"]:
        raw = path.read_bytes()
        assert raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n"), path
        lines = raw.decode("ascii").split("\r\n")[:-1]
        tokens = [t for line in lines for t in line.split(" ")]
        assert all(TOKEN.match(t) for t in tokens), path
        assert re.match(r"^\d{17} (\d+ ){6}\S+ \S+ 2$", lines[2]), path
        assert {len(line.split(" ")) for line in lines[4:29]} == {12}, path


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    size = {"classes": 5, "subjects": 2, "cameras": 1, "repetitions": 1}
    a = _tree_digest(generate("ntu", tmp_path / "a", seed=3, **size).out)
    b = _tree_digest(generate("ntu", tmp_path / "b", seed=3, **size).out)
    c = _tree_digest(generate("ntu", tmp_path / "c", seed=4, **size).out)
    assert a == b
    assert a.keys() == c.keys()
    assert all(a[k] != c[k] for k in a if k.endswith(".skeleton"))


def test_sequence_length_alone_does_not_reveal_the_class():
    """Fit 1-D classifiers on frame count over training subjects, score on test subjects."""
    specs = [s for s in plan(SynthSize(subjects=20, cameras=1)) if s.camera == 1]
    length = np.array([perform(s, 0).num_frames for s in specs], dtype=float)
    label = np.array([s.action for s in specs])
    train = np.isin([s.subject for s in specs], sorted(NTU60_XSUB_TRAIN_SUBJECTS))
    classes = np.unique(label)
    chance = 1.0 / len(classes)
    # nearest class mean of the length
    means = np.array([length[train & (label == c)].mean() for c in classes])
    nearest = classes[np.abs(length[~train, None] - means).argmin(1)]
    # the best piecewise-constant rule: majority training class per 8-frame bin of length
    bins = (length // 8).astype(int)
    votes = np.zeros((bins.max() + 1, len(classes)))
    np.add.at(votes, (bins[train], np.searchsorted(classes, label[train])), 1)
    binned = classes[votes[bins[~train]].argmax(1)]
    for predicted in (nearest, binned):
        accuracy = (predicted == label[~train]).mean()
        assert accuracy < 2 * chance, f"length predicts the class: {accuracy:.2f} vs {chance:.2f}"
    assert np.ptp(means) < length.std(), "class mean lengths differ more than the spread"


def test_kinetics_clips_have_the_stgcn_structure_and_agree_with_labels(tmp_path):
    summary = generate("kinetics", tmp_path / "k", seed=1, **SMALL)
    out = summary.out
    seen_two, seen_empty = False, False
    for subset in ("train", "val"):
        labels = json.loads((out / f"kinetics_{subset}_label.json").read_text())
        clips = sorted(p.stem for p in (out / f"kinetics_{subset}").glob("*.json"))
        assert clips == sorted(labels) and clips
        for clip, entry in labels.items():
            data = json.loads((out / f"kinetics_{subset}" / f"{clip}.json").read_text())
            assert set(data) == {"data", "label", "label_index"}
            assert (data["label"], data["label_index"]) == (entry["label"], entry["label_index"])
            assert summary.classes[entry["label_index"]] == entry["label"]
            assert [f["frame_index"] for f in data["data"]] == list(range(1, len(data["data"]) + 1))
            people = [s for f in data["data"] for s in f["skeleton"]]
            assert entry["has_skeleton"] == bool(people)
            seen_empty |= not people
            seen_two |= any(len(f["skeleton"]) >= 2 for f in data["data"])
            for s in people:
                assert (
                    set(s) == {"pose", "score"} and len(s["pose"]) == 36 and len(s["score"]) == 18
                )
                assert all(0.0 <= v <= 1.0 for v in s["pose"] + s["score"])
    assert seen_two and seen_empty


def test_kinetics_keys_match_a_real_clip(tmp_path, realdata):
    real = json.loads(
        next(
            (realdata / "ByeByeChen_st-gcn-master-improved" / "kinetics_train").glob("*.json")
        ).read_text()
    )
    ours_path = next(
        (
            generate(
                "kinetics", tmp_path / "k", seed=0, classes=1, subjects=1, cameras=1, repetitions=1
            ).out
            / "kinetics_train"
        ).glob("*.json")
    )
    ours = json.loads(ours_path.read_text())
    assert set(ours) == set(real)
    assert set(ours["data"][0]) == set(real["data"][0])
    real_person = next(s for f in real["data"] for s in f["skeleton"])
    assert set(ours["data"][0]["skeleton"][0]) == set(real_person)


def test_cli_writes_a_set_and_refuses_a_non_empty_directory(tmp_path):
    args = ["--format", "ntu", "--out", str(tmp_path / "d"), "--classes", "2", "--subjects", "2"]
    args += ["--cameras", "1", "--repetitions", "1"]
    result = CliRunner().invoke(synth, args)
    assert result.exit_code == 0, result.output
    assert "wrote 4 ntu samples" in result.output
    assert len(list((tmp_path / "d").glob("*.skeleton"))) == 4
    again = CliRunner().invoke(synth, args)
    assert again.exit_code != 0 and "not empty" in again.output


@pytest.mark.parametrize(
    ("option", "value"), [("classes", 0), ("subjects", 41), ("cameras", 4), ("empty_fraction", 1.0)]
)
def test_out_of_range_sizes_are_refused_by_name(tmp_path, option, value):
    with pytest.raises(ValueError, match=option):
        generate("ntu", tmp_path / "x", **{option: value})
    with pytest.raises(ValueError, match="unknown format"):
        generate("csv", tmp_path / "y")
