"""MSR Action3D reader on the real dataset: sample sets, anomalies, geometry, splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelprep.errors import RawFormatError
from skelprep.layouts import MSR20
from skelprep.readers import ReadOptions, SampleRef, get_dataset
from skelprep.readers.msr3d import bone_lengths, bone_segments, read_msr_frames

pytestmark = pytest.mark.realdata
MSR = "skyleBrains_covMSRAction3D"
SPEC = get_dataset("msr3d")


@pytest.fixture(scope="module")
def raw(realdata: Path) -> Path:
    return realdata / MSR


def _ref(raw: Path, name: str) -> SampleRef:
    return SampleRef(name, raw / f"{name}_skeleton3D.txt")


def test_sample_sets(raw: Path) -> None:
    default = SPEC.discover(raw, ReadOptions())
    assert len(default.refs) == 557 and len(default.skipped) == 10
    assert not any(s["malformed"] for s in default.skipped)  # left out by the sample list
    assert {Path(s["file"]).name for s in default.skipped} >= {"a13_s09_e02_skeleton3D.txt"}
    assert len(SPEC.discover(raw, ReadOptions(sample_set="all")).refs) == 567
    assert default.classes[0] == "high arm wave" and default.classes[19] == "pick up & throw"


def test_xsub_and_action_set_sizes(raw: Path) -> None:
    refs = SPEC.discover(raw, ReadOptions()).refs
    subjects = np.array([int(r.name[5:7]) for r in refs])
    labels = np.array([int(r.name[1:3]) - 1 for r in refs])
    splits = SPEC.splits({"subject": subjects}, labels, [r.name for r in refs])
    assert (len(splits["xsub"][0]), len(splits["xsub"][1])) == (284, 273)
    covered = sum(len(a) + len(b) for n, (a, b) in splits.items() if n.startswith("as"))
    assert covered == sum(np.isin(labels + 1, s).sum() for s in ([2, 3, 5, 6, 10, 13, 18, 20],
                          [1, 4, 7, 8, 9, 11, 12, 14], [6, 14, 15, 16, 17, 18, 19, 20]))  # fmt: skip


def test_all_zero_frames_dropped_and_counted(raw: Path) -> None:
    frames, dropped = read_msr_frames(raw / "a13_s09_e03_skeleton3D.txt")
    assert dropped == 740 and len(frames) == 936 - 740
    sample = SPEC.read(_ref(raw, "a13_s09_e03"), ReadOptions())
    assert sample.meta == {"subject": 9, "episode": 3, "dropped_frames": 740}
    assert sample.frames == 196 and sample.label == 12
    with pytest.raises(RawFormatError, match="no valid frame") as info:
        SPEC.read(_ref(raw, "a13_s09_e02"), ReadOptions())
    assert "a13_s09_e02_skeleton3D.txt" in str(info.value)


def test_every_file_reads_except_the_empty_one(raw: Path) -> None:
    failures = []
    for ref in SPEC.discover(raw, ReadOptions(sample_set="all")).refs:
        try:
            sample = SPEC.read(ref, ReadOptions())
        except RawFormatError:
            failures.append(ref.name)
            continue
        assert 1 <= sample.frames <= 300 and sample.bodies_kept == 1
        assert not sample.joints[..., 1].any()
    assert failures == ["a13_s09_e02"]


def test_raw_axes_are_metres_y_up_z_depth(raw: Path) -> None:
    frames, _ = read_msr_frames(raw / "a01_s01_e01_skeleton3D.txt")
    head, foot = frames[:, 19, :3], frames[:, 17, :3]
    assert np.all(head[:, 1] - foot[:, 1] > 1.2)  # a standing adult, in metres, y up
    assert np.all((frames[..., 2] > 1.4) & (frames[..., 2] < 3.9))


def test_aligned_person_is_upright_along_z(raw: Path) -> None:
    for name in ("a01_s01_e01", "a16_s05_e02", "a20_s10_e01"):
        sample = SPEC.read(_ref(raw, name), ReadOptions())
        first = sample.joints[:, 0, :, 0].T  # (20, 3)
        assert first[19, 2] > 0.3 and first[17, 2] < -0.8 and first[18, 2] < -0.8
        np.testing.assert_allclose(first[MSR20.origin], 0.0, atol=1e-6)


def test_bone_lengths_are_nearly_constant_within_a_file(raw: Path) -> None:
    """A fitted body model: most bones keep their length (CV < 0.02) within a file, while
    neck-head and spine-hip centre stretch more (median CV about 0.05-0.07)."""
    loose = [MSR20.edges.index((2, 19)), MSR20.edges.index((3, 6))]
    tight = [e for e in range(len(MSR20.edges)) if e not in loose]
    cvs = []
    for ref in SPEC.discover(raw, ReadOptions()).refs:
        lengths = bone_lengths(read_msr_frames(ref.path)[0][..., :3])
        cvs.append(lengths.std(axis=0) / lengths.mean(axis=0))
    median = np.median(np.array(cvs), axis=0)
    assert np.all(median[tight] < 0.02), median
    assert np.all((median[loose] > 0.03) & (median[loose] < 0.1)), median
    per_file = np.median(np.array(cvs)[:, tight], axis=1)
    assert (per_file < 0.02).mean() > 0.95 and per_file.max() < 0.06


def test_bone_segments_follow_the_layout(raw: Path) -> None:
    frames, _ = read_msr_frames(raw / "a01_s01_e01_skeleton3D.txt")
    segments = bone_segments(frames[0, :, :3])
    assert segments.shape == (len(MSR20.edges), 2, 3)
    np.testing.assert_array_equal(segments[0], frames[0, [2, 0], :3])
