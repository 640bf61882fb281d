"""The synthetic classes: a registry from NTU action number to the motion that imitates it.

Why: each class must be a distinct movement of a kinematic body (see `body`), named after the real
NTU RGB+D 60 action it imitates so that `--dataset ntu60` class names make sense. A motion maps
the action phase u (T,) in [0, 1] (0 = rest before, 1 = end pose after; lead-in, lead-out, speed
warp and time warp are applied by the caller) and a per-take `Style` to angle channels, one dict
per person. Two-person motions place the persons in their group frame (x across, facing each
other). The registry order is the order `--classes K` takes the first K from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from skelprep.classes import NTU60_CLASSES
from skelprep.synth.body import BodyShape

DEG = np.pi / 180.0
Channels = dict[str, np.ndarray]


@dataclass(frozen=True)
class Style:
    """How one take differs from another of the same class: amplitude, cycles and phase."""

    amp: float  # multiplies the main angles, about 0.85-1.15
    cycles: float  # multiplies the number of repetitions of periodic parts
    phase: float  # start phase (rad) of periodic parts
    gap: float  # extra distance (m) between the two persons of two-person classes

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Style:
        """A random style for one take."""
        return cls(
            amp=rng.uniform(0.85, 1.15),
            cycles=rng.uniform(0.8, 1.25),
            phase=rng.uniform(0, 2 * np.pi),
            gap=rng.uniform(-0.08, 0.12),
        )


MotionFn = Callable[[np.ndarray, Style, list[BodyShape]], list[Channels]]


@dataclass(frozen=True)
class Motion:
    """One class: the NTU action number it imitates, how many persons, and its motion."""

    action: int
    persons: int
    make: MotionFn

    @property
    def name(self) -> str:
        """The NTU RGB+D 60 class name of `action`."""
        return NTU60_CLASSES[self.action - 1]


def ramp(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Smooth step: 0 before a, 1 after b, a cosine in between."""
    x = np.clip((u - a) / (b - a), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def hold(u: np.ndarray, a: float, b: float, c: float, d: float) -> np.ndarray:
    """Rise over [a, b], hold, fall over [c, d]."""
    return ramp(u, a, b) * (1.0 - ramp(u, c, d))


def osc(u: np.ndarray, s: Style, cycles: float) -> np.ndarray:
    """A sine with about `cycles` periods over the action, jittered by the take's style."""
    return np.sin(2 * np.pi * cycles * s.cycles * u + s.phase)


def both_arms(**angles: np.ndarray | float) -> Channels:
    """The same arm angles on both sides: `flex=...` -> r_flex and l_flex."""
    return {f"{side}_{k}": np.asarray(v) for k, v in angles.items() for side in ("r", "l")}


def _full(u: np.ndarray, channels: Channels) -> Channels:
    return {k: np.broadcast_to(np.asarray(v, dtype=float), u.shape) for k, v in channels.items()}


def _hand_waving(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    env = hold(u, 0.0, 0.2, 0.8, 1.0)
    wave = 25 * DEG * s.amp * osc(u, s, 4.0)
    return [
        {"r_abd": env * 95 * DEG, "r_twist": env * -90 * DEG, "r_elbow": env * (70 * DEG + wave)}
    ]


def _sitting_down(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    f = ramp(u, 0.1, 0.9) * 88 * DEG
    thigh = shapes[0].lengths["thigh"]
    arms = both_arms(flex=f * 0.35 * s.amp)
    return [
        {
            "r_hip": f, "l_hip": f, "r_knee": f, "l_knee": f,
            "root_y": thigh * (np.cos(f) - 1.0), "root_z": thigh * np.sin(f),
            "bend": hold(u, 0.1, 0.45, 0.55, 0.95) * 30 * DEG * s.amp, **arms,
        }
    ]  # fmt: skip


def _standing_up(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    return _sitting_down(1.0 - u, s, shapes)


def kick_channels(u: np.ndarray, s: Style) -> Channels:
    """A forward kick of the right leg, arms swinging against it."""
    kick = hold(u, 0.3, 0.45, 0.55, 0.75) * s.amp
    windup = hold(u, 0.1, 0.3, 0.35, 0.5)
    return {
        "r_hip": kick * 75 * DEG + windup * 20 * DEG, "r_knee": windup * 80 * DEG + kick * 10 * DEG,
        "l_knee": kick * 15 * DEG, "bend": -kick * 12 * DEG, "l_flex": kick * 35 * DEG,
        "r_flex": -kick * 20 * DEG,
    }  # fmt: skip


def _kicking_something(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    return [kick_channels(u, s)]


def facing_pair(u: np.ndarray, distance: float) -> list[Channels]:
    """Two persons `distance` m apart on the x axis, facing each other."""
    return [
        _full(u, {"root_x": -distance / 2, "yaw": -90 * DEG}),
        _full(u, {"root_x": distance / 2, "yaw": 90 * DEG}),
    ]


def _handshaking(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    pair = facing_pair(u, 0.85 + s.gap)
    env = hold(u, 0.0, 0.3, 0.75, 1.0)
    shake = 8 * DEG * osc(u, s, 3.0) * hold(u, 0.3, 0.35, 0.7, 0.75)
    for p in pair:
        p.update(
            r_flex=env * 55 * DEG * s.amp + shake, r_elbow=env * 40 * DEG, r_abd=-env * 20 * DEG
        )
    return pair


def _pushing_other_person(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    pair = facing_pair(u, 0.95 + s.gap)
    push = ramp(u, 0.35, 0.55)
    reach = hold(u, 0.1, 0.35, 0.7, 0.95)
    pair[0].update(
        both_arms(flex=reach * 80 * DEG * s.amp, elbow=reach * (1 - push) * 90 * DEG),
        root_x=pair[0]["root_x"] + 0.2 * push * reach,
        bend=reach * push * 15 * DEG,
    )
    pair[1].update(
        both_arms(flex=push * 35 * DEG, abd=push * 25 * DEG),
        root_x=pair[1]["root_x"] + 0.35 * push,
        bend=-hold(u, 0.45, 0.6, 0.7, 0.95) * 20 * DEG,
    )
    return pair


def _cheer_up(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    env = hold(u, 0.0, 0.25, 0.8, 1.0)
    pump = 15 * DEG * osc(u, s, 2.5)
    return [both_arms(flex=env * (150 * DEG * s.amp + pump), abd=env * 25 * DEG, elbow=env * pump)]


def _clapping(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    env = hold(u, 0.0, 0.2, 0.8, 1.0)
    clap = 0.5 + 0.5 * osc(u, s, 6.0)
    return [
        both_arms(
            flex=env * 55 * DEG * s.amp, elbow=env * 70 * DEG, abd=env * (clap * 25 - 25) * DEG
        )
    ]


def _nod_head_bow(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    bow = hold(u, 0.15, 0.45, 0.55, 0.85) * s.amp
    return [{"bend": bow * 45 * DEG, "nod": bow * 20 * DEG}]


def _salute(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    env = hold(u, 0.1, 0.35, 0.7, 0.9)
    return [{"r_abd": env * 80 * DEG, "r_flex": env * 20 * DEG, "r_twist": env * -90 * DEG, "r_elbow": env * 130 * DEG * s.amp}]  # fmt: skip


def _jump_up(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    crouch = hold(u, 0.1, 0.3, 0.35, 0.45) + hold(u, 0.6, 0.7, 0.75, 0.9)
    flight = np.sin(np.pi * np.clip((u - 0.4) / 0.22, 0.0, 1.0))
    legs = {
        f"{side}_{k}": crouch * a * DEG for side in "rl" for k, a in (("hip", 45), ("knee", 90))
    }
    return [
        {
            **legs, **both_arms(flex=flight * 110 * DEG * s.amp - crouch * 30 * DEG),
            "root_y": -crouch * 0.17 + flight * 0.28 * s.amp, "bend": crouch * 25 * DEG,
        }
    ]  # fmt: skip


def _hopping(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    env = hold(u, 0.0, 0.15, 0.85, 1.0)
    bounce = np.abs(osc(u, s, 2.5))
    return [
        {
            "l_hip": env * 25 * DEG, "l_knee": env * 85 * DEG, "r_knee": env * (1 - bounce) * 25 * DEG,
            "root_y": env * (bounce * 0.12 * s.amp - 0.03), **both_arms(abd=env * 20 * DEG),
        }
    ]  # fmt: skip


def _pointing(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    env = hold(u, 0.1, 0.35, 0.75, 0.95) * s.amp
    return [{"r_flex": env * 85 * DEG, "r_abd": env * 10 * DEG, "r_elbow": -env * 15 * DEG}]


def _pickup(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    down = hold(u, 0.1, 0.4, 0.55, 0.9) * s.amp
    legs = {f"{side}_{k}": down * a * DEG for side in "rl" for k, a in (("hip", 20), ("knee", 40))}
    return [{**legs, "bend": down * 70 * DEG, "r_flex": down * 40 * DEG, "root_y": -down * 0.1}]


def _falling(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    f = ramp(u, 0.2, 0.6) * s.amp
    legs = {f"{side}_{k}": f * a * DEG for side in "rl" for k, a in (("hip", 25), ("knee", 100))}
    return [{**legs, **both_arms(flex=f * 70 * DEG), "bend": f * 50 * DEG, "root_y": -f * 0.45}]


def _punching_other_person(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    pair = facing_pair(u, 0.9 + s.gap)
    guard = hold(u, 0.0, 0.2, 0.8, 1.0)
    jab = np.clip(osc(u, s, 2.0), 0.0, 1.0) ** 2 * hold(u, 0.2, 0.3, 0.7, 0.8)
    pair[0].update(
        r_flex=guard * 60 * DEG + jab * 25 * DEG * s.amp, r_elbow=guard * 110 * DEG * (1 - jab)
    )
    pair[1].update(bend=-jab * 12 * DEG, lean=jab * 8 * DEG)
    return pair


def walk_channels(u: np.ndarray, s: Style, start: float, stop: float) -> Channels:
    """Walking forward along the person's facing direction from `start` to `stop` (m, along x)."""
    go = ramp(u, 0.1, 0.9)
    step = osc(u, s, 2.0) * hold(u, 0.05, 0.15, 0.85, 0.95)
    return {
        "root_x": start + (stop - start) * go,
        "r_hip": 25 * DEG * step, "l_hip": -25 * DEG * step,
        "r_knee": 30 * DEG * np.clip(step, 0, 1), "l_knee": 30 * DEG * np.clip(-step, 0, 1),
        "r_flex": -20 * DEG * step, "l_flex": 20 * DEG * step,
    }  # fmt: skip


def _walking_towards(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    far, near = 1.4 + s.gap, 0.55
    return [
        {**walk_channels(u, s, -far, -near), "yaw": np.full_like(u, -90 * DEG)},
        {**walk_channels(u, s, far, near), "yaw": np.full_like(u, 90 * DEG)},
    ]


def _walking_apart(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    far, near = 1.4 + s.gap, 0.55
    return [
        {**walk_channels(u, s, -near, -far), "yaw": np.full_like(u, 90 * DEG)},
        {**walk_channels(u, s, near, far), "yaw": np.full_like(u, -90 * DEG)},
    ]


def _hugging(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    pair = facing_pair(u, 0.45 + s.gap / 2)
    env = hold(u, 0.1, 0.35, 0.7, 0.9) * s.amp
    for p in pair:
        p.update(both_arms(flex=env * 80 * DEG, abd=env * 25 * DEG, elbow=env * 80 * DEG))
        p["r_twist"] = p["l_twist"] = env * -70 * DEG
    return pair


def _kicking_other_person(u: np.ndarray, s: Style, shapes: list[BodyShape]) -> list[Channels]:
    pair = facing_pair(u, 1.0 + s.gap)
    pair[0].update(kick_channels(u, s))
    pair[1].update(bend=-hold(u, 0.4, 0.5, 0.6, 0.85) * 20 * DEG)
    return pair


MOTIONS: tuple[Motion, ...] = (
    Motion(23, 1, _hand_waving),
    Motion(8, 1, _sitting_down),
    Motion(9, 1, _standing_up),
    Motion(24, 1, _kicking_something),
    Motion(58, 2, _handshaking),
    Motion(52, 2, _pushing_other_person),
    Motion(22, 1, _cheer_up),
    Motion(10, 1, _clapping),
    Motion(35, 1, _nod_head_bow),
    Motion(38, 1, _salute),
    Motion(27, 1, _jump_up),
    Motion(26, 1, _hopping),
    Motion(31, 1, _pointing),
    Motion(6, 1, _pickup),
    Motion(43, 1, _falling),
    Motion(50, 2, _punching_other_person),
    Motion(59, 2, _walking_towards),
    Motion(60, 2, _walking_apart),
    Motion(55, 2, _hugging),
    Motion(51, 2, _kicking_other_person),
)
"""Every synthetic class, in the order `--classes K` takes them."""

MOTION_BY_ACTION: dict[int, Motion] = {m.action: m for m in MOTIONS}
