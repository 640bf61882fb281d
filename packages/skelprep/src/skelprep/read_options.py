"""How samples are read and shaped (`ReadOptions`), and the body-denoising thresholds that are
its defaults (the rules they set are described in skelprep.bodies).

Kept apart from the readers and their compiled kernels so that the build's parameters, and with
them `skelprep build --help`, load without Numba.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_BODY_FRAMES = 11
"""A body needs at least this many tracked frames (bodies seen in <= 10 frames are noise)."""

SPREAD_RATIO = 0.8
"""A frame is noisy when x-spread > SPREAD_RATIO * y-spread of the body's joints."""

NOISY_FRAME_FRACTION = 0.69754
"""A body is dropped when more than this fraction of its tracked frames is noisy."""


@dataclass(frozen=True)
class ReadOptions:
    """How samples are read and shaped.

    `max_frames` / `max_bodies` give the output shape; `align` turns the alignment of align.py
    on (3-D: translation and rotation; 2-D: centring and scale), `align_heading=False` keeps
    the camera's heading of 3-D bodies (stood up, not turned to face one way); `sample_set`
    picks MSR Action3D's list ("cvpr12" or "all"); `layout` names a registry layout for readers
    whose layout is not fixed (stgcn-npy, folder; "" = decided by the data); `unlabelled`
    stores every sample with label -1 (recordings to classify). The denoising thresholds are
    documented in skelprep.bodies.
    """

    max_frames: int = 300
    max_bodies: int = 2
    align: bool = True
    align_heading: bool = True
    sample_set: str = "default"
    layout: str = ""
    unlabelled: bool = False
    min_body_frames: int = MIN_BODY_FRAMES
    spread_ratio: float = SPREAD_RATIO
    noisy_frame_fraction: float = NOISY_FRAME_FRACTION
