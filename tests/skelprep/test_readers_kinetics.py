"""Kinetics-skeleton reader: real ST-GCN JSON clips, and ST-GCN's shaping rules on a hand-made clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef, get_dataset

SPEC = get_dataset("kinetics")
BYEBYE = "ByeByeChen_st-gcn-master-improved"


def _person(x: float, score: float) -> dict:
    return {"pose": [x, 0.25] * 18, "score": [score] * 18}


def write_root(root: Path, clips: dict[str, dict], labels: dict[str, dict]) -> Path:
    """A raw root with a val label file and clips under kinetics_val/."""
    (root / "kinetics_val").mkdir(parents=True)
    for name, clip in clips.items():
        (root / "kinetics_val" / f"{name}.json").write_text(json.dumps(clip))
    (root / "kinetics_val_label.json").write_text(json.dumps(labels))
    return root


def _entry(label: str, index: int, has: bool = True) -> dict:
    return {"has_skeleton": has, "label": label, "label_index": index}


def _check(sample_joints: np.ndarray, frames: int) -> None:
    assert sample_joints.shape == (3, 300, 18, 2) and 1 <= frames <= 300
    xy = sample_joints[:2]
    assert xy.min() >= -0.6 and xy.max() <= 0.6  # OpenPose x, y in [0, 1] (a little beyond)
    assert not xy[:, sample_joints[2] == 0].any() and xy.any()


@pytest.mark.realdata
def test_real_val_clips_load_with_official_names(realdata: Path, tmp_path: Path) -> None:
    source = realdata / BYEBYE
    (tmp_path / "kinetics_val").symlink_to(source / "kinetics_val_old")
    (tmp_path / "label_name.txt").symlink_to(realdata / "hensyou_st-gcn/label_name.txt")
    val = json.loads((source / "kinetics_val_label-old.json").read_text())
    clips = sorted(p.stem for p in (source / "kinetics_val_old").glob("*.json"))
    (tmp_path / "kinetics_val_label.json").write_text(json.dumps({c: val[c] for c in clips}))
    found = SPEC.discover(tmp_path, ReadOptions())
    assert len(found.refs) == 7 and found.skipped == [] and len(found.classes) == 400
    for ref in found.refs:
        sample = SPEC.read(ref, ReadOptions())
        _check(sample.joints, sample.frames)
        assert found.classes[sample.label] == val[ref.name]["label"]
        assert sample.meta == {"subset": 1}


@pytest.mark.realdata
def test_real_train_clips_and_the_rewritten_indices(realdata: Path, tmp_path: Path) -> None:
    source = realdata / BYEBYE
    (tmp_path / "kinetics_train").symlink_to(source / "kinetics_train")
    (tmp_path / "kinetics_train_label.json").symlink_to(source / "kinetics_train_label.json")
    found = SPEC.discover(tmp_path, ReadOptions())
    assert found.classes[:2] == ["jumping into pool", "playing harp"]
    samples = [SPEC.read(ref, ReadOptions()) for ref in found.refs]
    for sample in samples:
        _check(sample.joints, sample.frames)
    assert sorted(s.label for s in samples) == [0, 1, 2, 3, 4]
    splits = SPEC.splits({"subset": np.zeros(5, int)}, np.zeros(5), [])
    assert len(splits["official"][0]) == 5 and len(splits["official"][1]) == 0
    # The repo author rewrote train indices to 0-4; with the official val labels beside them the
    # same index names two classes, which must be refused rather than silently merged.
    (tmp_path / "kinetics_val").mkdir()
    (tmp_path / "kinetics_val_label.json").symlink_to(source / "kinetics_val_label-old.json")
    with pytest.raises(
        RawFormatError, match="is 'playing harp' elsewhere|is 'jumping into pool' elsewhere"
    ):
        SPEC.discover(tmp_path, ReadOptions())


def test_keeps_two_highest_scoring_people_per_frame(tmp_path: Path) -> None:
    frames = [
        {"frame_index": 1, "skeleton": [_person(0.1, 0.2), _person(0.9, 0.9), _person(0.5, 0.5)]},
        {"frame_index": 3, "skeleton": [_person(0.7, 0.0)]},
    ]
    clip = {"data": frames, "label": "abseiling", "label_index": 0}
    root = write_root(tmp_path, {"clip": clip}, {"clip": _entry("abseiling", 0)})
    sample = SPEC.read(SampleRef("clip", root / "kinetics_val" / "clip.json"), ReadOptions())
    assert sample.frames == 3 and sample.bodies_found == 3 and sample.bodies_kept == 2
    np.testing.assert_allclose(sample.joints[0, 0, :, 0], 0.4)  # 0.9 - 0.5, best first
    np.testing.assert_allclose(sample.joints[0, 0, :, 1], 0.0)  # 0.5 - 0.5
    np.testing.assert_allclose(sample.joints[1, 0, :, 0], -0.25)
    np.testing.assert_allclose(sample.joints[2, 0, :, :2], [[0.9, 0.5]] * 18)
    assert not sample.joints[:, 1].any() and not sample.joints[:, 2].any()  # zero score -> zero


def test_has_skeleton_false_and_unlisted_clips_are_skipped(tmp_path: Path) -> None:
    clip = {"data": [{"frame_index": 1, "skeleton": [_person(0.5, 1.0)]}], "label": "a",
            "label_index": 0}  # fmt: skip
    labels = {"good": _entry("a", 0), "empty": _entry("b", 1, has=False)}
    root = write_root(tmp_path, {"good": clip, "empty": clip, "stray": clip}, labels)
    found = SPEC.discover(root, ReadOptions())
    assert [r.name for r in found.refs] == ["good"] and found.classes == ["a", "b"]
    reasons = {Path(s["file"]).stem: s["reason"] for s in found.skipped}
    assert "has_skeleton" in reasons["empty"] and "not in the label file" in reasons["stray"]
    # the label file's own has_skeleton: false is no defect (--strict goes on); a stray clip is
    malformed = {Path(s["file"]).stem: s["malformed"] for s in found.skipped}
    assert malformed == {"empty": False, "stray": True}


def test_label_disagreeing_with_label_file_is_an_error(tmp_path: Path) -> None:
    clip = {"data": [{"frame_index": 1, "skeleton": [_person(0.5, 1.0)]}], "label": "a",
            "label_index": 0}  # fmt: skip
    root = write_root(tmp_path, {"c": clip}, {"c": _entry("a", 3)})
    with pytest.raises(RawFormatError, match="disagrees with kinetics_val_label.json"):
        SPEC.read(SampleRef("c", root / "kinetics_val" / "c.json"), ReadOptions())
