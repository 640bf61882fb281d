"""ST-GCN array import and the restricted unpickler, on real files and crafted ones."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from skelprep import safe_pickle
from skelprep.errors import RawFormatError, SkelprepError
from skelprep.readers import ReadOptions, get_dataset

SPEC = get_dataset("stgcn-npy")


class _Exploit:
    """Unpickling this would call os.system (it must never run)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.realdata
def test_real_spa_tpa_arrays_load_with_a_chain_layout(realdata: Path) -> None:
    raw = realdata / "XiatianZhang_SPA-TPA"
    spec = SPEC.resolve(raw)
    assert spec.layout.name == "chain7" and spec.layout.num_joints == 7
    found = spec.discover(raw, ReadOptions())
    assert len(found.refs) == 45 and found.classes[0] == "No Tremor"
    data = np.load(raw / "val_data.npy", mmap_mode="r")
    for ref in found.refs[:5]:
        sample = spec.read(ref, ReadOptions())
        assert sample.joints.shape == (3, 300, 7, 2)
        np.testing.assert_array_equal(sample.joints[..., 0], data[ref.index, :, :, :, 0])
        assert sample.meta == {"subset": 1}


@pytest.mark.realdata
def test_real_label_pickles_load_safely(realdata: Path) -> None:
    for path in sorted((realdata / "sangoncalves_CrosSCLR").glob("*/*.pkl")):
        names, labels = safe_pickle.load(path)
        assert all(n.endswith("A023.skeleton") for n in names) and set(labels) == {22}


def test_crafted_pickle_cannot_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "val_label.pkl"
    path.write_bytes(pickle.dumps((["a"], [_Exploit(marker)])))
    with pytest.raises(RawFormatError, match="posix.system is not allowed|os.system"):
        safe_pickle.load(path)
    assert not marker.exists()
    with pytest.raises(RawFormatError, match="object dtype"):
        safe_pickle.loads(pickle.dumps(np.array([1, "x"], dtype=object)))


def test_numpy_labels_are_allowed() -> None:
    names, labels = safe_pickle.loads(pickle.dumps((["a", "b"], np.array([3, 4]))))
    assert names == ["a", "b"] and labels.tolist() == [3, 4]


def test_ntu_shaped_arrays_get_the_ntu_layout(tmp_path: Path) -> None:
    data = np.zeros((3, 3, 40, 25, 2), dtype=np.float32)
    data[0, :, :10] = 1.0
    data[1, :, :40, :, 1] = 2.0
    np.save(tmp_path / "train_data.npy", data[:2])
    np.save(tmp_path / "val_data.npy", data[2:])
    (tmp_path / "train_label.pkl").write_bytes(pickle.dumps((["x.skeleton", "y.skeleton"], [1, 0])))
    (tmp_path / "val_label.pkl").write_bytes(pickle.dumps((["z.skeleton"], [2])))
    spec = SPEC.resolve(tmp_path)
    assert spec.layout.name == "ntu25" and spec.channels == ("x", "y", "z")
    found = spec.discover(tmp_path, ReadOptions())
    assert [r.name for r in found.refs] == ["x", "y", "z"] and len(found.classes) == 3
    first = spec.read(found.refs[0], ReadOptions(max_frames=32))
    assert first.frames == 10 and first.label == 1 and first.joints.shape == (3, 32, 25, 2)
    second = spec.read(found.refs[1], ReadOptions(max_frames=32))
    assert second.frames == 32 and second.bodies_found == 1
    with pytest.raises(RawFormatError, match="no valid frame"):
        spec.read(found.refs[2], ReadOptions())
    splits = spec.splits({"subset": np.array([0, 0, 1])}, np.array([1, 0, 2]), [])
    assert splits["official"][1].tolist() == [2]


def _twenty_joint_arrays(raw: Path) -> np.ndarray:
    """A 20-joint (N, C, T, V, M) export in camera coordinates: bodies far from the origin."""
    rng = np.random.default_rng(3)
    data = (
        rng.normal(0, 0.3, (2, 3, 30, 20, 1)) + np.array([0.5, 1.0, 3.0])[None, :, None, None, None]
    )
    raw.mkdir()
    np.save(raw / "train_data.npy", data.astype(np.float32))
    (raw / "train_label.pkl").write_bytes(pickle.dumps((["a", "b"], [0, 1])))
    return data


@pytest.mark.parametrize(("layout", "expected"), [("", "msr20"), ("kinect-v1", "kinect-v1")])
def test_arrays_are_aligned_by_default_with_the_chosen_layout(
    tmp_path: Path, layout: str, expected: str
) -> None:
    data = _twenty_joint_arrays(tmp_path / "raw")
    options = ReadOptions(max_frames=30, max_bodies=1, layout=layout)
    spec = SPEC.resolve(tmp_path / "raw", options)
    assert spec.layout.name == expected
    sample = spec.read(spec.discover(tmp_path / "raw", options).refs[0], options)
    aligned = sample.joints[:, :, :, 0].transpose(1, 2, 0)  # (T, V, C)
    first = aligned[0]
    np.testing.assert_allclose(first[spec.layout.origin], 0.0, atol=1e-6)
    up = first[spec.layout.up[1]] - first[spec.layout.up[0]]
    np.testing.assert_allclose(up[:2], 0.0, atol=1e-5)
    matrix, offset = sample.transform
    raw = data[0, :, :, :, 0].transpose(1, 2, 0)
    np.testing.assert_allclose(aligned @ np.linalg.inv(matrix).T + offset, raw, atol=1e-5)
    plain = spec.read(spec.discover(tmp_path / "raw", options).refs[0], ReadOptions(
        max_frames=30, max_bodies=1, layout=layout, align=False))  # fmt: skip
    np.testing.assert_array_equal(plain.joints[:, :, :, 0], data[0, :, :, :, 0].astype(np.float32))
    assert plain.transform is None


def test_a_layout_with_another_joint_count_is_refused(tmp_path: Path) -> None:
    _twenty_joint_arrays(tmp_path / "raw")
    with pytest.raises(SkelprepError, match="--layout ntu25 has 25 joints but .* holds 20"):
        SPEC.resolve(tmp_path / "raw", ReadOptions(layout="ntu25"))
    with pytest.raises(SkelprepError, match="unknown layout 'nope'"):
        SPEC.resolve(tmp_path / "raw", ReadOptions(layout="nope"))
