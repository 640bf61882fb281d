"""Every shipped layout aligns real recordings as its docstring says.

The raw coordinates are read here without our readers (the official NTU txt2npy output, MSR
Action3D text, NW-UCLA JSON, a Kinetics-skeleton JSON clip for the two 2-D layouts), then
aligned with the layout: 3-D puts the origin joint at 0 and turns the up bone onto +z and the
across bone into +x; 2-D centres the origin joint and gives the up bone a median length of 1.
The recorded transform must give the raw coordinates back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from skelprep.align import align_bodies
from skelprep.layouts import LAYOUTS

KINETICS_CLIP = "ByeByeChen_st-gcn-master-improved/kinetics_val_old/__U_scuxNlQ.json"
# OpenPose-18 index of each COCO-17 joint (both orders are in skelprep.layouts)
COCO_FROM_OPENPOSE = [0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10]


def _ntu(root: Path) -> np.ndarray:
    path = root / "gardiens_plot_skeleton_NTU_RGB-D/S001C001P001R001A001.skeleton.npy"
    return np.load(path, allow_pickle=True).item()["skel_body0"]


def _msr(root: Path) -> np.ndarray:
    path = root / "skyleBrains_covMSRAction3D/a01_s01_e01_skeleton3D.txt"
    return np.loadtxt(path).reshape(-1, 20, 4)[..., :3]


def _nwucla(root: Path) -> np.ndarray:
    path = root / "zjyyjz556_ctrgcn/NW-UCLA/all_sqe/a01_s01_e00_v01.json"
    return np.asarray(json.loads(path.read_text())["skeletons"], dtype=np.float64)


def _openpose(root: Path) -> np.ndarray:
    """(T, 18, 3) x, y, score of the first person of every frame (zeros where nobody)."""
    frames = json.loads((root / KINETICS_CLIP).read_text())["data"]
    out = np.zeros((len(frames), 18, 3))
    for t, frame in enumerate(frames):
        if frame["skeleton"]:
            person = frame["skeleton"][0]
            out[t, :, :2] = np.reshape(person["pose"], (18, 2))
            out[t, :, 2] = person["score"]
    return out


RAW: dict[str, Callable[[Path], np.ndarray]] = {
    "ntu25": _ntu,
    "msr20": _msr,
    "kinect-v1": _nwucla,
    "openpose18": _openpose,
    "coco17": lambda root: _openpose(root)[:, COCO_FROM_OPENPOSE],
}


def test_every_shipped_layout_has_a_real_recording_here() -> None:
    assert sorted(RAW) == sorted(LAYOUTS)


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(RAW))
def test_alignment_on_real_data(realdata: Path, name: str) -> None:
    layout = LAYOUTS[name]
    raw = RAW[name](realdata)[None]  # one body
    assert raw.shape[2:] == (layout.num_joints, len(layout.channels))
    present = raw.any(axis=(2, 3))
    aligned, (matrix, offset) = align_bodies(raw, present, layout, layout.channels)
    ref = int(np.flatnonzero(present[0])[0])
    dims = len(offset)
    if dims == 3:
        body = aligned[0, ref]
        np.testing.assert_allclose(body[layout.origin], 0.0, atol=1e-9)
        up = body[layout.up[1]] - body[layout.up[0]]
        np.testing.assert_allclose(up[:2], 0.0, atol=1e-9)
        assert up[2] > 0
        across = body[layout.across[1]] - body[layout.across[0]]
        assert abs(across[1]) < 1e-9 and across[0] > 0
    else:
        detected = raw[0, :, :, :2].any(axis=-1) & present[0][:, None]
        first = int(np.flatnonzero(detected[:, layout.origin])[0])
        np.testing.assert_allclose(aligned[0, first, layout.origin, :2], 0.0, atol=1e-9)
        both = detected[:, layout.up[0]] & detected[:, layout.up[1]]
        bones = aligned[0, both, layout.up[1], :2] - aligned[0, both, layout.up[0], :2]
        assert np.median(np.linalg.norm(bones, axis=-1)) == pytest.approx(1.0)
        assert not aligned[0][~detected].any()  # undetected joints stay zero, score too
        np.testing.assert_array_equal(aligned[0, :, :, 2], raw[0, :, :, 2])
    # the recorded transform gives the raw coordinates back wherever the body is tracked
    tracked = aligned[0, present[0], :, :dims]
    back = tracked @ np.linalg.inv(matrix).T + offset
    keep = raw[0, present[0], :, :dims].any(axis=-1) if dims == 2 else slice(None)
    np.testing.assert_allclose(back[keep], raw[0, present[0], :, :dims][keep], atol=1e-9)
