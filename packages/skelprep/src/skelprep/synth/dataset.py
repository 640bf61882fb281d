"""Plan and write a synthetic dataset: which samples exist, and each one's files.

Why: the sample ids must follow NTU conventions so that the official splits divide a synthetic
set sensibly: performers come from both sides of the NTU60 cross-subject list, all requested
cameras film every take, and action numbers are those of the imitated NTU classes. Every random
stream is seeded from (seed, ids), so the same seed gives byte-identical files in any order and
a sample does not change when the set around it grows.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from skelprep.splits import NTU60_XSUB_TRAIN_SUBJECTS, VAL_HOLD_OUT
from skelprep.synth import kinetics_format, ntu_format
from skelprep.synth.camera import setup_rig
from skelprep.synth.motions import MOTIONS
from skelprep.synth.sensor import Recording, observe
from skelprep.synth.take import SampleSpec, Take, perform, stream

NTU60_SUBJECTS = 40
NTU_SETUPS = 17


def _validation_early(subjects: list[int], held_out: frozenset[int]) -> list[int]:
    """`subjects` with each held-out one moved one place earlier, so that the first four training
    subjects (an 8-subject set such as the demo's) already include one that `xsub-val` tests on.
    Sorted, the held-out subjects are every fifth and no small set would have any."""
    order = list(subjects)
    for k in range(1, len(order)):
        if order[k] in held_out and order[k - 1] not in held_out:
            order[k - 1], order[k] = order[k], order[k - 1]
    return order


TRAIN_SUBJECTS = _validation_early(
    sorted(NTU60_XSUB_TRAIN_SUBJECTS), VAL_HOLD_OUT["ntu60"]["xsub"].values or frozenset()
)
TEST_SUBJECTS = sorted(set(range(1, NTU60_SUBJECTS + 1)) - NTU60_XSUB_TRAIN_SUBJECTS)


@dataclass(frozen=True)
class SynthSize:
    """How big a set is: classes (first K of the registry), performers, cameras, repetitions,
    and the fraction of samples written without skeletons."""

    classes: int = 10
    subjects: int = 8
    cameras: int = 3
    repetitions: int = 2
    empty_fraction: float = 0.01

    def check(self) -> None:
        """Raise ValueError naming the option that is out of range."""
        limits = {
            "classes": (1, len(MOTIONS)),
            "subjects": (1, NTU60_SUBJECTS),
            "cameras": (1, 3),
            "repetitions": (1, 999),
        }
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValueError(f"{name} must be in {low}..{high}, got {value}")
        if not 0.0 <= self.empty_fraction < 1.0:
            raise ValueError(f"empty_fraction must be in [0, 1), got {self.empty_fraction}")


@dataclass
class SynthSummary:
    """What `generate` wrote."""

    format: str
    out: Path
    seed: int
    size: SynthSize
    samples: list[str]
    empty: list[str]
    classes: list[str]
    actions: list[int]
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)


def performers(count: int) -> list[tuple[int, int]]:
    """(subject, setup) pairs: alternately an NTU60 xsub training subject (in TRAIN_SUBJECTS
    order) and test subject, with setups 1, 1, 2, 2, ... so that both sides of the subject split
    span even and odd setups."""
    order = [s for pair in zip(TRAIN_SUBJECTS, TEST_SUBJECTS, strict=True) for s in pair]
    return [(subject, k // 2 % NTU_SETUPS + 1) for k, subject in enumerate(order[:count])]


def plan(size: SynthSize) -> list[SampleSpec]:
    """Every sample of a set, sorted by name."""
    specs = [
        SampleSpec(setup, camera, subject, rep, motion.action)
        for subject, setup in performers(size.subjects)
        for motion in MOTIONS[: size.classes]
        for rep in range(1, size.repetitions + 1)
        for camera in range(1, size.cameras + 1)
    ]
    return sorted(specs, key=lambda s: s.name)


def empty_samples(seed: int, names: list[str], fraction: float) -> set[str]:
    """The samples written with no skeleton: round(fraction * N) of them, chosen by the seed."""
    count = round(fraction * len(names))
    chosen = stream(seed, "empty").choice(len(names), size=count, replace=False)
    return {names[k] for k in chosen}


def record(spec: SampleSpec, seed: int, empty: bool = False, take: Take | None = None) -> Recording:
    """What camera `spec.camera` recorded of the take: the data written for sample `spec`."""
    take = take or perform(spec, seed)
    camera = setup_rig(stream(seed, "setup", spec.setup), [spec.camera])[spec.camera]
    rng = stream(
        seed, "camera", spec.setup, spec.camera, spec.subject, spec.replication, spec.action
    )
    return observe(rng, take.persons, camera, take.facing, empty)


def _take_key(spec: SampleSpec) -> tuple[int, int, int, int]:
    return spec.setup, spec.subject, spec.replication, spec.action


def _write_ntu(
    out: Path,
    seed: int,
    specs: Iterable[tuple[SampleSpec, Recording]],
    empty: set[str],
    labels: dict[int, tuple[str, int]],
) -> list[str]:
    files = []
    for spec, recording in specs:
        name = f"{spec.name}.skeleton"
        ntu_format.write_skeleton(out / name, recording)
        files.append(name)
    files.append(ntu_format.write_missing_list(out, sorted(empty)).name)
    return files


def _write_kinetics(
    out: Path,
    seed: int,
    specs: Iterable[tuple[SampleSpec, Recording]],
    empty: set[str],
    labels: dict[int, tuple[str, int]],
) -> list[str]:
    files, entries = [], {"train": {}, "val": {}}
    for folder in kinetics_format.SUBSET_FOLDERS.values():
        (out / folder).mkdir()
    for spec, recording in specs:
        subset = "train" if spec.subject in NTU60_XSUB_TRAIN_SUBJECTS else "val"
        clip = kinetics_format.clip_id(seed, spec.name)
        label, index = labels[spec.action]
        ids = (spec.setup, spec.camera, spec.subject, spec.replication, spec.action)
        data = kinetics_format.clip_json(stream(seed, "video", *ids), recording, label, index)
        name = f"{kinetics_format.SUBSET_FOLDERS[subset]}/{clip}.json"
        kinetics_format.write_clip(out / name, data)
        entries[subset][clip] = {
            "has_skeleton": spec.name not in empty,
            "label": label,
            "label_index": index,
        }
        files.append(name)
    for subset, items in entries.items():
        files.append(kinetics_format.write_labels(out, subset, items).name)
    return files


WRITERS = {"ntu": _write_ntu, "kinetics": _write_kinetics}
"""Output format name -> writer of all samples (given as (spec, recording) pairs)."""


def generate(fmt: str, out: Path, seed: int = 0, **size: int | float) -> SynthSummary:
    """Write a synthetic dataset in raw format `fmt` ("ntu" or "kinetics") into `out`.

    `size` takes the fields of SynthSize. The set is built in `<out>.partial/` and renamed when
    complete; an existing non-empty `out` is refused rather than mixed with new files.
    """
    start = time.perf_counter()
    if fmt not in WRITERS:
        raise ValueError(f"unknown format {fmt!r}; known: {sorted(WRITERS)}")
    shape = SynthSize(**size)
    shape.check()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty; remove it or choose another --out")
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    specs = plan(shape)
    names = [s.name for s in specs]
    empty = empty_samples(seed, names, shape.empty_fraction)
    motions = MOTIONS[: shape.classes]
    labels = {m.action: (m.name, k) for k, m in enumerate(motions)}

    def recordings() -> Iterator[tuple[SampleSpec, Recording]]:
        by_take = sorted(specs, key=lambda s: (_take_key(s), s.camera))
        for _, group in groupby(by_take, key=_take_key):
            group = list(group)
            take = perform(group[0], seed)
            for spec in group:
                yield spec, record(spec, seed, spec.name in empty, take)

    files = WRITERS[fmt](partial, seed, recordings(), empty, labels)
    if out.exists():
        out.rmdir()
    partial.rename(out)
    return SynthSummary(
        format=fmt,
        out=out,
        seed=seed,
        size=shape,
        samples=names,
        empty=sorted(empty),
        classes=[m.name for m in motions],
        actions=[m.action for m in motions],
        seconds=time.perf_counter() - start,
        files=files,
    )
