"""One take: a subject (and partner) performing an action once, in room coordinates.

Why: NTU's three cameras film the same performance at once, so the motion, its timing and the
persons are drawn once per (setup, subject, repetition, action) and only the view, sensor noise
and tracking glitches differ per camera (see `sensor`). Timing hides the class from the length:
every class has the same base duration, stretched by a speed warp of 0.6x-1.6x, bent by a
monotone time warp, and padded by random rest before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skelprep.readers.ntu import parse_sample_id
from skelprep.synth.body import BodyShape, forward_kinematics, random_shape
from skelprep.synth.camera import facing_azimuth
from skelprep.synth.motions import DEG, MOTION_BY_ACTION, Style

BASE_ACTIVE_FRAMES = 60
SPEED_WARP = (0.6, 1.6)
REST_FRAMES = (4, 30)

# Seed-stream tags: every random stream is seeded from (seed, tag, ...ids) so that it does not
# depend on which other samples are generated.
STREAM = {"take": 0, "camera": 1, "subject": 2, "setup": 3, "empty": 4, "partner": 5, "video": 6}


def stream(seed: int, tag: str, *ids: int) -> np.random.Generator:
    """The random generator of one named stream for the given ids."""
    return np.random.default_rng([seed, STREAM[tag], *ids])


@dataclass(frozen=True, order=True)
class SampleSpec:
    """The NTU identity of a sample: setup, camera, performer (subject), replication, action."""

    setup: int
    camera: int
    subject: int
    replication: int
    action: int

    @property
    def name(self) -> str:
        """The NTU sample id, e.g. `S001C002P003R001A023`."""
        s = self
        return f"S{s.setup:03d}C{s.camera:03d}P{s.subject:03d}R{s.replication:03d}A{s.action:03d}"

    @classmethod
    def parse(cls, name: str) -> SampleSpec:
        """The inverse of `name`."""
        return cls(**parse_sample_id(name))


@dataclass
class Take:
    """Room coordinates (T, 30, 3) of each person (subject first); the subject faces `facing`."""

    persons: list[np.ndarray]
    facing: float

    @property
    def num_frames(self) -> int:
        return len(self.persons[0])


def subject_shape(seed: int, subject: int) -> BodyShape:
    """The body of a performer, the same in every sample of that performer."""
    return random_shape(stream(seed, "subject", subject))


def _timeline(rng: np.random.Generator) -> np.ndarray:
    """Action phase u (T,) in [0, 1]: rest, a warped active part, rest."""
    active = max(8, round(BASE_ACTIVE_FRAMES * rng.uniform(*SPEED_WARP)))
    before, after = rng.integers(*REST_FRAMES, endpoint=True, size=2)
    gamma = np.exp(rng.uniform(-0.3, 0.3))
    t = np.arange(before + active + after) - before
    return np.clip(t / (active - 1), 0.0, 1.0) ** gamma


def _idle(rng: np.random.Generator, t: int) -> dict[str, np.ndarray]:
    """Slow sway and breathing that every standing person shows."""
    frames = np.arange(t)
    period, phase = rng.uniform(90, 160), rng.uniform(0, 2 * np.pi)
    sway = np.sin(2 * np.pi * frames / period + phase)
    return {"root_x": 0.015 * sway, "bend": 2 * DEG * np.cos(2 * np.pi * frames / period + phase)}


def perform(spec: SampleSpec, seed: int) -> Take:
    """The take `spec` belongs to (its camera is ignored): persons in room coordinates."""
    rng = stream(seed, "take", spec.setup, spec.subject, spec.replication, spec.action)
    motion = MOTION_BY_ACTION[spec.action]
    shapes = [subject_shape(seed, spec.subject)]
    if motion.persons == 2:
        shapes.append(random_shape(stream(seed, "partner", spec.subject)))
    u = _timeline(rng)
    style = Style.draw(rng)
    facing = facing_azimuth(spec.replication) + rng.normal(0.0, 6.0) * DEG
    offset = np.array([rng.uniform(-0.3, 0.3), 0.0, rng.uniform(-0.3, 0.3)])
    c, s = np.cos(facing), np.sin(facing)
    to_room = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    persons = []
    for shape, channels in zip(shapes, motion.make(u, style, shapes), strict=True):
        idle = _idle(rng, len(u))
        merged = {k: channels.get(k, 0.0) + idle.get(k, 0.0) for k in channels.keys() | idle.keys()}
        group = forward_kinematics(shape, merged, len(u))
        persons.append(group @ to_room.T + offset)
    return Take(persons, facing)
