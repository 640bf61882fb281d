"""Write recordings as Kinetics-skeleton clips (the ST-GCN release's JSON) and its label files.

Why: the Kinetics reader must run unchanged on synthetic data. Layout as released:
`kinetics_train/<id>.json`, `kinetics_val/<id>.json`, `kinetics_train_label.json` and
`kinetics_val_label.json` (`{id: {has_skeleton, label, label_index}}`). A clip is
`{"data": [{"frame_index": 1-based, "skeleton": [{"pose": [x0, y0, ...] 36, "score": [...] 18}]}],
"label", "label_index"}` with OpenPose-18 joints normalised to [0, 1] and 3 decimals; a joint
OpenPose missed (or outside the image) is `0.0, 0.0` with score 0. Every frame is listed, with an
empty skeleton list where nobody was found; a clip with `has_skeleton: false` has no skeleton in
any frame. Clip ids are 11-character YouTube-like names derived from (seed, sample id).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import numpy as np

from skelprep.synth.camera import video_coordinates
from skelprep.synth.sensor import Recording

# OpenPose-18 joint -> point of the synthetic body (NTU 0-based joints, then 25.. face points)
OPENPOSE_FROM_BODY = np.array([25, 20, 8, 9, 10, 4, 5, 6, 16, 17, 18, 12, 13, 14, 26, 27, 28, 29])
# the NTU joint whose trackingState stands for each OpenPose joint (face points: the head)
TRACKING_JOINT = np.where(OPENPOSE_FROM_BODY >= 25, 3, OPENPOSE_FROM_BODY)
MISSED_JOINT_PROBABILITY = 0.03
SUBSET_FOLDERS = {"train": "kinetics_train", "val": "kinetics_val"}


def clip_id(seed: int, sample: str) -> str:
    """An 11-character YouTube-like id, stable for (seed, sample)."""
    digest = hashlib.blake2b(f"{seed}:{sample}".encode(), digest_size=9).digest()
    return base64.urlsafe_b64encode(digest).decode()[:11]


def skeletons(rng: np.random.Generator, recording: Recording) -> list[list[dict]]:
    """Per frame, the OpenPose skeletons (pose, score) of the tracked bodies."""
    frames: list[list[dict]] = [[] for _ in range(recording.num_frames)]
    for track in recording.tracks:
        xy = video_coordinates(track.xyz[:, OPENPOSE_FROM_BODY])
        tracked = track.tracking[:, TRACKING_JOINT] == 2
        score = np.where(tracked, rng.uniform(0.55, 0.95, tracked.shape), rng.uniform(0.1, 0.4))
        seen = (xy >= 0).all(-1) & (xy <= 1).all(-1)
        seen &= rng.random(seen.shape) >= MISSED_JOINT_PROBABILITY
        xy = np.round(np.where(seen[..., None], xy, 0.0), 3) + 0.0
        score = np.round(np.where(seen, score, 0.0), 3) + 0.0
        for frame, pose, conf in zip(
            track.frames.tolist(), xy.reshape(len(xy), -1), score, strict=True
        ):
            frames[frame].append({"pose": pose.tolist(), "score": conf.tolist()})
    return frames


def clip_json(rng: np.random.Generator, recording: Recording, label: str, label_index: int) -> dict:
    """The JSON object of one clip."""
    data = [
        {"frame_index": k + 1, "skeleton": people}
        for k, people in enumerate(skeletons(rng, recording))
    ]
    return {"data": data, "label": label, "label_index": label_index}


def write_clip(path: Path, clip: dict) -> None:
    """Write one clip as compact one-line JSON, as in the release."""
    path.write_text(json.dumps(clip), encoding="utf-8")


def write_labels(out: Path, subset: str, entries: dict[str, dict]) -> Path:
    """Write `kinetics_<subset>_label.json`, sorted by id, indented like the official file."""
    path = out / f"kinetics_{subset}_label.json"
    path.write_text(json.dumps(dict(sorted(entries.items())), indent=4), encoding="utf-8")
    return path
