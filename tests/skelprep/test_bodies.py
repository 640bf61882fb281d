"""Body selection and denoising rules on hand-made tracks."""

from __future__ import annotations

import numpy as np

from skelprep.bodies import body_motion, noisy_frame_fraction, select_bodies


def _person(rng: np.random.Generator, frames: int, motion: float) -> np.ndarray:
    """A tall, thin body (y-spread 1.6, x-spread 0.4) moving with the given amplitude.

    Each test passes its own seeded generator, so its data do not depend on which tests ran
    before it."""
    base = np.zeros((25, 3))
    base[:, 1] = np.linspace(-0.8, 0.8, 25)
    base[:, 0] = np.linspace(-0.2, 0.2, 25)
    return base + motion * rng.standard_normal((frames, 1, 3))


def _stack(*tracks: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    total = 40
    joints = np.zeros((len(tracks), total, 25, 3))
    present = np.zeros((len(tracks), total), dtype=bool)
    for b, (track, start) in enumerate(tracks):
        joints[b, start : start + len(track)] = track
        present[b, start : start + len(track)] = True
    return joints, present


def test_keeps_the_bodies_with_most_motion_first() -> None:
    rng = np.random.default_rng(0)
    joints, present = _stack(
        (_person(rng, 40, 0.01), 0), (_person(rng, 40, 0.2), 0), (_person(rng, 40, 0.1), 0)
    )
    chosen = select_bodies(joints, present, max_bodies=2)
    assert chosen.kept == (1, 2) and chosen.found == 3
    motion = body_motion(joints, present)
    assert motion[1] > motion[2] > motion[0]


def test_short_track_dropped_unless_it_is_the_only_body() -> None:
    rng = np.random.default_rng(1)
    joints, present = _stack((_person(rng, 40, 0.01), 0), (_person(rng, 5, 0.5), 10))
    assert select_bodies(joints, present, max_bodies=2).kept == (0,)
    only, mask = _stack((_person(rng, 5, 0.5), 3))
    assert select_bodies(only, mask, max_bodies=2).kept == (0,)


def test_wide_body_is_not_a_person() -> None:
    rng = np.random.default_rng(2)
    wide = _person(rng, 40, 0.01)[..., [1, 0, 2]]  # swap x and y: wider than tall
    joints, present = _stack((wide, 0), (_person(rng, 40, 0.001), 0))
    assert noisy_frame_fraction(joints, present, 0.8)[0] == 1.0
    assert select_bodies(joints, present, max_bodies=2).kept == (1,)


def test_never_drops_every_body() -> None:
    rng = np.random.default_rng(3)
    wide = _person(rng, 40, 0.1)[..., [1, 0, 2]]
    joints, present = _stack((wide, 0))
    assert select_bodies(joints, present, max_bodies=2).kept == (0,)
