"""Build parameters, each declared once: its field on `BuildParams` carries its type, default,
help, key in the store's attrs `build`, and whether it is a reader option and a CLI option.
`PARAMS` lists these declarations; the `skelprep build` options (commands/build.py), the
attrs (`to_attrs`), the reader options (`read_options`) and the reuse comparison are made
from it, so a new parameter is one field here (plus a `ReadOptions` field when the readers
use it, and its line in docs/store-format.md; tests/skelprep/test_params.py checks both).

Keys are compared flattened (`dtw.radius`, `semantic.eps`, ...). Three kinds:
- content keys decide the arrays (reading, shaping, chunking, DTW): a difference needs a
  rebuild (`--force`), and a `.partial` directory staged with other content keys is discarded;
- semantic keys (`semantic.*`: rule, eps, sigma, k) only change the adjacency derived from the
  stored DTW distances, so they are re-applied to the finished store without a rebuild;
- policy keys (`strict`) are not content: they never block resume, nor reuse of a store that
  agrees with them (`--strict` over a store that skipped malformed files: build/__init__.py
  `decide`).
"""

from __future__ import annotations

import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from skelprep import semantic
from skelprep.read_options import ReadOptions

SEMANTIC_PREFIX = "semantic."
DTW_SERIES = "body 0 (first kept body), valid frames, after alignment"
_READ_DEFAULTS = ReadOptions()
_DECLARATION = "skelprep.param"


@dataclass(frozen=True)
class Param:
    """One build parameter as declared on `BuildParams` (see `declare`).

    `attrs_key` is its dotted place in the attrs `build` ("dtw.radius" is {"dtw": {"radius"}});
    `read` passes it to the readers as the `ReadOptions` field of the same name; `cli` makes it
    a `skelprep build` option; `minimum` is the lowest value `BuildParams.check` accepts;
    `policy` keeps it out of the reuse comparison.
    """

    name: str
    type: type
    default: Any
    help: str
    attrs_key: str
    read: bool
    cli: bool
    minimum: float | None
    policy: bool

    @property
    def flag(self) -> str:
        """The `skelprep build` option: `--max-frames`; a bool that is True by default is the
        flag that turns it off (`--no-align`), one that is False the flag that turns it on."""
        dashed = self.name.replace("_", "-")
        return f"--no-{dashed}" if self.default is True else f"--{dashed}"


def declare(
    default: Any = MISSING,
    help: str = "",
    *,
    attrs: str = "",
    read: bool = False,
    cli: bool = True,
    minimum: float | None = None,
    policy: bool = False,
) -> Any:
    """A `BuildParams` field and its declaration (see `Param`); `attrs` "" means the field's
    name, `default` MISSING a required parameter."""
    declaration = {
        "help": help,
        "attrs_key": attrs,
        "read": read,
        "cli": cli,
        "minimum": minimum,
        "policy": policy,
    }
    return field(default=default, metadata={_DECLARATION: declaration})


def _read(name: str, help: str, **declared: Any) -> Any:
    """A reader option (`ReadOptions.<name>`, whose default it takes) as a build parameter."""
    return declare(getattr(_READ_DEFAULTS, name), help, read=True, **declared)


def _denoise(name: str, help: str) -> Any:
    """A body-denoising threshold (skelprep.bodies): a reader option nested under `denoise` in
    the attrs, not a CLI option."""
    return _read(name, help, attrs=f"denoise.{name}", cli=False)


@dataclass(frozen=True)
class BuildParams:
    """Every parameter of a build, in the order of the attrs `build`."""

    dataset: str = declare(help="Registry name: ntu60, ntu120, kinetics, msr3d, folder, ...")
    max_frames: int = _read(
        "max_frames",
        "Frames per sample: longer ones are trimmed, shorter ones zero-padded.",
        minimum=1,
    )
    max_bodies: int = _read("max_bodies", "Bodies kept per sample (M).", minimum=1)
    align: bool = _read(
        "align", "Keep the raw coordinates (no translation, rotation, scale).", attrs="alignment"
    )
    align_heading: bool = _read(
        "align_heading",
        "3-D: stand the body up (up bone to +z) but keep the heading the camera saw it at, "
        "instead of turning its shoulders to +x (cross-view data: views then differ by their "
        "cameras' yaw, which training can augment).",
        attrs="alignment_heading",
    )
    sample_set: str = _read("sample_set", "MSR Action3D's sample list: default (= cvpr12) or all.")
    layout: str = _read(
        "layout",
        "Layout for stgcn-npy / folder data: ntu25, msr20, kinect-v1, openpose18, coco17 "
        "[decided by V, or the folder's layout.toml].",
    )
    unlabelled: bool = _read("unlabelled", "Recordings to classify: labels -1, no splits, no DTW.")
    min_body_frames: int = _denoise(
        "min_body_frames", "A body needs at least this many tracked frames."
    )
    spread_ratio: float = _denoise(
        "spread_ratio", "A frame is noisy when x-spread > this ratio * y-spread of its joints."
    )
    noisy_frame_fraction: float = _denoise(
        "noisy_frame_fraction",
        "A body is dropped when more than this fraction of its frames is noisy.",
    )
    chunk_size: int = declare(
        64,
        "Samples per Dask task (parse and DTW) and per Zarr chunk of the store's arrays along "
        "N; a content parameter: a store built with another value is refused, not reused.",
        minimum=1,
    )
    dtw_radius: int = declare(1, "FastDTW radius.", attrs="dtw.radius", minimum=1)
    dtw_metric: str = declare(
        "manhattan", "DTW point metric: manhattan or euclidean.", attrs="dtw.metric"
    )
    dtw_diagonal_weight: float = declare(
        1.0,
        "DTW diagonal-step multiplier (the paper's Eq. 2; 1.0 is standard DTW).",
        attrs="dtw.diagonal_weight",
    )
    dtw_samples_per_class: int = declare(
        0,
        "DTW over the first N training samples of each class (0: all).",
        attrs="dtw.samples_per_class",
        minimum=0,
    )
    rule: str = declare("gaussian", "Adjacency rule: gaussian, eq3 or knn.", attrs="semantic.rule")
    eps: float = declare(0.6, "Threshold of the gaussian and eq3 rules.", attrs="semantic.eps")
    sigma: float = declare(0.1, "Width of the gaussian rule.", attrs="semantic.sigma")
    k: int = declare(3, "Neighbours per joint of the knn rule.", attrs="semantic.k", minimum=1)
    strict: bool = declare(False, "Stop at the first malformed raw file.", policy=True)

    def check(self) -> None:
        """Raise ValueError naming the first parameter out of range."""
        for param in PARAMS:
            value = getattr(self, param.name)
            if param.minimum is not None and value < param.minimum:
                raise ValueError(f"{param.flag} out of range: {value}")
        if self.rule not in semantic.RULES:
            raise ValueError(f"unknown --rule {self.rule!r}; known: {sorted(semantic.RULES)}")

    def read_options(self) -> ReadOptions:
        """The reader options these parameters ask for (the parameters declared `read`)."""
        return ReadOptions(**{p.name: getattr(self, p.name) for p in PARAMS if p.read})

    def rule_params(self) -> dict:
        """The parameters the adjacency rule reads, e.g. {eps, sigma} for gaussian."""
        names = semantic.rule_params(self.rule)
        return semantic.rule_params(self.rule, **{name: getattr(self, name) for name in names})

    def dtw_attrs(self) -> dict:
        """The `dtw` attrs of a `semantic/<split>` group: the `dtw` parameters and the series."""
        return {**self.to_attrs()["dtw"], "series": DTW_SERIES}

    def to_attrs(self) -> dict:
        """The store's `build` attrs (JSON): each parameter at its `attrs_key`."""
        attrs: dict = {}
        for param in PARAMS:
            *groups, key = param.attrs_key.split(".")
            node = attrs
            for group in groups:
                node = node.setdefault(group, {})
            node[key] = getattr(self, param.name)
        return attrs

    def content_key(self) -> dict:
        """The flattened content keys: what staged work and a finished store depend on."""
        return {
            key: value
            for key, value in flatten(self.to_attrs()).items()
            if not key.startswith(SEMANTIC_PREFIX) and key not in POLICY_KEYS
        }


def _declarations() -> tuple[Param, ...]:
    """The `Param` of every `BuildParams` field, in field order."""
    types = typing.get_type_hints(BuildParams)
    params = []
    for item in fields(BuildParams):
        declared = dict(item.metadata[_DECLARATION])
        declared["attrs_key"] = declared["attrs_key"] or item.name
        params.append(
            Param(name=item.name, type=types[item.name], default=item.default, **declared)
        )
    return tuple(params)


PARAMS = _declarations()
POLICY_KEYS = frozenset(p.attrs_key for p in PARAMS if p.policy)
ADDED_DEFAULTS = {f"build.{p.attrs_key}": p.default for p in PARAMS if p.default is not MISSING}
"""Each parameter's default at its flattened key in `differences`: what a store written before
the parameter existed was built with."""


def flatten(tree: dict, prefix: str = "") -> dict:
    """{"dtw": {"radius": 1}} -> {"dtw.radius": 1}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differences(stored: dict, requested: dict) -> list[tuple[str, object, object]]:
    """(key, stored value, requested value) for every flattened key that differs (policy keys
    excluded) between two {"build": attrs, "source": ...} records. A parameter the stored
    `build` lacks (the store was written before it existed) counts as its default, so adding a
    parameter does not invalidate existing stores; any other key absent on one side shows as
    None there."""
    old, new = {**ADDED_DEFAULTS, **flatten(stored)}, flatten(requested)
    keys = sorted((set(old) | set(new)) - {f"build.{key}" for key in POLICY_KEYS})
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def is_semantic_only(diffs: list[tuple[str, object, object]]) -> bool:
    """True when every difference is an adjacency-rule parameter."""
    return all(key.startswith(SEMANTIC_PREFIX) for key, _, _ in diffs)
