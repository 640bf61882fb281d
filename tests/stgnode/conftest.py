"""A small real `skelprep.store/1` Zarr store written with zarr directly (no skelprep import).

Four classes whose joints follow distinct smooth motions (each class moves the joints along
its own fixed directions at its own frequency), so a model can learn them in a few steps.
Layout: a 12-joint tree, centre 1. Two bodies (the second present in a third of the samples),
variable valid lengths zero-padded to T, chunks of 16 samples along N, Blosc zstd as the
contract says. Splits `xsub` (subjects 0-3 train, 4-5 test) with a semantic adjacency, and
`xview` without one.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.codecs import BloscCodec

EDGES = [[0, 1], [1, 2], [2, 3], [1, 4], [4, 5], [5, 6], [1, 7], [7, 8], [0, 9], [9, 10], [0, 11]]
CLASSES = ["wave", "squat", "turn", "step"]
NUM_JOINTS, MAX_FRAMES, BODIES, CHUNK = 12, 40, 2, 16


def synth_joints(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joints (n, 3, T, V, M), frames (n,), labels (n,)) of class-specific smooth motions."""
    rng = np.random.default_rng(seed)
    pose = np.random.default_rng(99).normal(0, 0.4, (NUM_JOINTS, 3))
    directions = np.random.default_rng(7).normal(0, 1, (len(CLASSES), NUM_JOINTS, 3))
    labels = np.arange(n) % len(CLASSES)
    frames = rng.integers(MAX_FRAMES // 2, MAX_FRAMES + 1, size=n)
    joints = np.zeros((n, 3, MAX_FRAMES, NUM_JOINTS, BODIES), dtype=np.float32)
    for i in range(n):
        k, t = labels[i], np.arange(frames[i]) / frames[i]
        wave = np.sin(2 * np.pi * (k + 1) * t + rng.uniform(0, np.pi))
        body = pose + wave[:, None, None] * directions[k] * 0.5
        body += rng.normal(0, 0.02, body.shape)
        joints[i, :, : frames[i], :, 0] = body.transpose(2, 0, 1)
        if i % 3 == 0:
            joints[i, :, : frames[i], :, 1] = body.transpose(2, 0, 1) + 1.0
    return joints, frames.astype(np.int32), labels.astype(np.int16)


def write_store(path: Path, n: int = 96, seed: int = 0, schema: str = "skelprep.store/1") -> Path:
    """Write a complete small store at `path` per docs/store-format.md; return the path."""
    joints, frames, labels = synth_joints(n, seed)
    root = zarr.open_group(str(path), mode="w")
    blosc = BloscCodec(cname="zstd", clevel=3, shuffle="shuffle")
    root.create_array("joints", data=joints, chunks=(CHUNK, *joints.shape[1:]), compressors=blosc)
    root.create_array("frames", data=frames)
    root.create_array("label", data=labels)
    names = [f"S001C001P{i % 6:03d}R001A{labels[i] + 1:03d}" for i in range(n)]
    root.create_array("sample", shape=(n,), dtype=str, chunks=(n,))[:] = np.array(
        names, dtype=object
    )
    subject = np.arange(n) % 6
    root.create_array("meta/subject", data=subject.astype(np.int16))
    for split, test_of in {"xsub": subject >= 4, "xview": np.arange(n) % 3 == 0}.items():
        root.create_array(f"splits/{split}/train", data=np.flatnonzero(~test_of).astype(np.int64))
        root.create_array(f"splits/{split}/test", data=np.flatnonzero(test_of).astype(np.int64))
    adjacency = np.eye(NUM_JOINTS, dtype=np.float32)
    for a, b in [*EDGES, [3, 6], [6, 8], [10, 11]]:
        adjacency[a, b] = adjacency[b, a] = 1.0
    semantic = root.create_group("semantic/xsub")
    semantic.create_array("adjacency", data=adjacency)
    semantic.attrs.update({"rule": "gaussian", "params": {"eps": 0.6, "sigma": 0.1}})
    root.attrs.update(
        {
            "schema": schema,
            "dataset": "ntu60",
            "layout": {"name": "test12", "joints": [f"j{j}" for j in range(NUM_JOINTS)], "edges": EDGES,
                       "centre": 1, "origin": 0, "up": [0, 1], "across": [4, 7]},
            "classes": CLASSES,
            "num_classes": len(CLASSES),
            "channels": ["x", "y", "z"],
            "build": {"max_frames": MAX_FRAMES, "max_bodies": BODIES},
            "source": {"raw_root": "synthetic", "file_count": n, "fingerprint": f"test-{seed}"},
            "skipped": [],
            "stats": {"samples": n, "skipped": 0},
            "skelprep_version": "test",
            "created": "2026-01-01T00:00:00Z",
        }
    )  # fmt: skip
    with warnings.catch_warnings():  # consolidated metadata is not in the v3 spec yet
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(path))
    return path


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small complete store, shared read-only by the tests of this directory."""
    return write_store(tmp_path_factory.mktemp("store") / "tiny.zarr")


@pytest.fixture
def tiny_config() -> dict:
    """The demo config shrunk so a training epoch takes well under a second on one core."""
    from stgnode.config import load_config

    return load_config(
        "demo",
        [
            "model.channels=[8, 16]",
            "model.strides=[1, 2]",
            "model.dropout=0.0",
            "data.window=16",
            "data.num_workers=0",
            "train.batch_size=16",
            "train.epochs=2",
            "train.tensorboard=false",
            "schedule.warmup_epochs=1",
        ],
    )


@pytest.fixture(scope="session")
def unique_store(store, tmp_path_factory):
    """The tiny store with unique sample ids (the shared fixture repeats some ids)."""
    copy = shutil.copytree(store, tmp_path_factory.mktemp("store") / "unique.zarr")
    root = zarr.open_group(str(copy), mode="r+", use_consolidated=False)
    ids = [f"{old}_{i}" for i, old in enumerate(root["sample"][:].tolist())]
    del root["sample"]
    root.create_array("sample", shape=(len(ids),), dtype=str)[:] = np.array(ids, dtype=object)
    zarr.consolidate_metadata(str(copy))
    return copy


@pytest.fixture(scope="session")
def trained_run(unique_store, tmp_path_factory):
    """A stg-node run trained for one epoch (best.pt, last.pt, metrics.jsonl) on the tiny store."""
    from stgnode.config import load_config
    from stgnode.train import run_training

    config = load_config(
        "demo",
        [
            "model.channels=[8, 16]",
            "model.strides=[1, 2]",
            "data.window=16",
            "data.num_workers=0",
            "train.batch_size=16",
            "train.epochs=1",
            "train.tensorboard=false",
            "schedule.warmup_epochs=0",
        ],
    )
    run = tmp_path_factory.mktemp("runs") / "tiny"
    run_training(config, unique_store, run, progress=False)
    return run
