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
from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, Sample, SampleRef, get_dataset
from skelprep.splits import NTU60_XSUB_TRAIN_SUBJECTS, VAL_HOLD_OUT
from skelprep.synth import SampleSpec, SynthSize, generate, plan, record
from skelprep.synth.dataset import performers
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


def _as_written(path: Path, num_frames: int, bodies: int) -> Sample:
    """A synthetic file through the public NTU reader with nothing dropped or moved: every body
    kept (no denoising, one slot each), no alignment, room for the whole timeline."""
    options = ReadOptions(
        max_frames=num_frames,
        max_bodies=max(bodies, 1),
        align=False,
        min_body_frames=1,
        noisy_frame_fraction=1.0,
    )
    return get_dataset("ntu60").read(SampleRef(path.stem, path), options)


def _tracking_states(path: Path) -> np.ndarray:
    """The trackingState (last field) of every joint line (12 fields) of a .skeleton file."""
    rows = [line.split() for line in path.read_text().splitlines()]
    return np.array([int(row[-1]) for row in rows if len(row) == 12], dtype=int)


def test_ntu_files_round_trip_through_the_strict_reader(ntu_set):
    assert len(ntu_set.samples) == 5 * 2 * 2 * 2
    for name in ntu_set.samples:
        if name in ntu_set.empty:
            continue
        path = ntu_set.out / f"{name}.skeleton"
        intended = record(SampleSpec.parse(name), ntu_set.seed, empty=False)
        assert int(path.read_text().split()[0]) == intended.num_frames
        sample = _as_written(path, intended.num_frames, len(intended.tracks))
        # The reader drops the frames before the first and after the last tracked body.
        first = min(int(track.frames[0]) for track in intended.tracks)
        last = max(int(track.frames[-1]) for track in intended.tracks)
        assert sample.frames == last - first + 1
        assert sample.bodies_found == sample.bodies_kept == len(intended.tracks)
        slots = set(range(len(intended.tracks)))
        for track in intended.tracks:
            written = as_written(track.xyz[:, :25]).astype(np.float32).transpose(2, 0, 1)
            matching = [
                m
                for m in slots
                if np.array_equal(sample.joints[..., m][:, track.frames - first], written)
            ]
            assert len(matching) == 1, f"{name}: body {track.body_id} not read back as written"
            slots.discard(matching[0])
        states = np.concatenate([track.tracking.ravel() for track in intended.tracks])
        np.testing.assert_array_equal(np.sort(_tracking_states(path)), np.sort(states))


def test_missing_skeleton_list_names_exactly_the_empty_samples(ntu_set):
    lines = (ntu_set.out / MISSING_LIST).read_text().split("\n")
    assert lines[0].startswith(f'{len(ntu_set.empty)} of the captured samples in the "NTU RGB+D"')
    assert lines[1].startswith("If you are working on skeleton-based analysis")
    assert lines[2] == ""
    assert [x for x in lines[3:] if x] == ntu_set.empty
    assert len(ntu_set.empty) == round(0.1 * len(ntu_set.samples))
    for name in ntu_set.empty:
        path = ntu_set.out / f"{name}.skeleton"
        assert int(path.read_text().split()[0]) > 0  # frames recorded, with no body in any
        with pytest.raises(RawFormatError, match="no body in any frame"):
            _as_written(path, 300, 1)


def test_sensor_artefacts_and_two_person_classes_are_present(ntu_set):
    full = [n for n in ntu_set.samples if n not in ntu_set.empty]
    recordings = {n: record(SampleSpec.parse(n), ntu_set.seed) for n in full}
    assert any((_tracking_states(ntu_set.out / f"{n}.skeleton") == 1).any() for n in full), (
        "no inferred joint"
    )
    dropped = []
    for recording in recordings.values():
        per_frame = np.zeros(recording.num_frames, dtype=int)
        for track in recording.tracks:
            per_frame[track.frames] += 1
        dropped.append((per_frame == 0).any())
    assert any(dropped), "no dropped frame"
    tracks = [track for r in recordings.values() for track in r.tracks]
    ghosts = [track for track in tracks if len(track.frames) <= 8]
    assert ghosts and all(np.ptp(g.xyz[:, :25], axis=1).max() < 0.5 for g in ghosts)
    handshakes = [r for n, r in recordings.items() if n.endswith("A058")]
    assert all(len(r.tracks) >= 2 for r in handshakes)
    depth = np.concatenate([track.xyz[:, :25, 2].ravel() for track in tracks])
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


def test_the_demo_sized_set_has_a_validation_subject():
    """8 performers (the demo's) give 4 training subjects of which one is held out by xsub-val,
    so that recipes can be chosen on it; every training and test subject is still used once."""
    subjects = [subject for subject, _ in performers(8)]
    train = [s for s in subjects if s in NTU60_XSUB_TRAIN_SUBJECTS]
    held = VAL_HOLD_OUT["ntu60"]["xsub"].values
    assert len(train) == 4 and len(set(train) & held) == 1
    everyone = [subject for subject, _ in performers(40)]
    assert sorted(everyone) == list(range(1, 41))


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
