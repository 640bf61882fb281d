"""Build parameters: one frozen record, its form in the store's attrs `build`, and the
comparison that decides reuse.

Keys are compared flattened (`dtw.radius`, `semantic.eps`, ...). Three kinds:
- content keys decide the arrays (reading, shaping, chunking, DTW): a difference needs a
  rebuild (`--force`), and a `.partial` directory staged with other content keys is discarded;
- semantic keys (`semantic.*`: rule, eps, sigma, k) only change the adjacency derived from the
  stored DTW distances, so they are re-applied to the finished store without a rebuild;
- `strict` is a policy, not content: it never blocks reuse or resume.
"""

from __future__ import annotations

from dataclasses import dataclass

from skelprep import semantic
from skelprep.read_options import ReadOptions

SEMANTIC_PREFIX = "semantic."
POLICY_KEYS = frozenset({"strict"})
_READ_DEFAULTS = ReadOptions()


@dataclass(frozen=True)
class BuildParams:
    """Every parameter of a build; `samples_per_class` 0 means every training sample."""

    dataset: str
    max_frames: int = 300
    max_bodies: int = 2
    align: bool = True
    sample_set: str = "default"
    layout: str = ""
    unlabelled: bool = False
    min_body_frames: int = _READ_DEFAULTS.min_body_frames
    spread_ratio: float = _READ_DEFAULTS.spread_ratio
    noisy_frame_fraction: float = _READ_DEFAULTS.noisy_frame_fraction
    chunk_size: int = 64
    dtw_radius: int = 1
    dtw_metric: str = "manhattan"
    dtw_diagonal_weight: float = 1.0
    dtw_samples_per_class: int = 0
    rule: str = "gaussian"
    eps: float = 0.6
    sigma: float = 0.1
    k: int = 3
    strict: bool = False

    def check(self) -> None:
        """Raise ValueError naming the first parameter out of range."""
        limits = {
            "max_frames": self.max_frames >= 1,
            "max_bodies": self.max_bodies >= 1,
            "chunk_size": self.chunk_size >= 1,
            "dtw_radius": self.dtw_radius >= 1,
            "dtw_samples_per_class": self.dtw_samples_per_class >= 0,
            "k": self.k >= 1,
        }
        for name, ok in limits.items():
            if not ok:
                raise ValueError(f"--{name.replace('_', '-')} out of range: {getattr(self, name)}")
        if self.rule not in semantic.RULES:
            raise ValueError(f"unknown --rule {self.rule!r}; known: {sorted(semantic.RULES)}")

    def read_options(self) -> ReadOptions:
        """The reader options these parameters ask for."""
        return ReadOptions(
            max_frames=self.max_frames,
            max_bodies=self.max_bodies,
            align=self.align,
            sample_set=self.sample_set,
            layout=self.layout,
            unlabelled=self.unlabelled,
            min_body_frames=self.min_body_frames,
            spread_ratio=self.spread_ratio,
            noisy_frame_fraction=self.noisy_frame_fraction,
        )

    def rule_params(self) -> dict:
        """The parameters the adjacency rule reads, e.g. {eps, sigma} for gaussian."""
        names = semantic.rule_params(self.rule)
        return semantic.rule_params(self.rule, **{name: getattr(self, name) for name in names})

    def dtw_attrs(self) -> dict:
        """The `dtw` attrs of a `semantic/<split>` group."""
        return {
            "radius": self.dtw_radius,
            "metric": self.dtw_metric,
            "diagonal_weight": self.dtw_diagonal_weight,
            "series": "body 0 (first kept body), valid frames, after alignment",
            "samples_per_class": self.dtw_samples_per_class,
        }

    def to_attrs(self) -> dict:
        """The store's `build` attrs (JSON)."""
        return {
            "dataset": self.dataset,
            "max_frames": self.max_frames,
            "max_bodies": self.max_bodies,
            "alignment": self.align,
            "sample_set": self.sample_set,
            "layout": self.layout,
            "unlabelled": self.unlabelled,
            "denoise": {
                "min_body_frames": self.min_body_frames,
                "spread_ratio": self.spread_ratio,
                "noisy_frame_fraction": self.noisy_frame_fraction,
            },
            "chunk_size": self.chunk_size,
            "dtw": {
                "radius": self.dtw_radius,
                "metric": self.dtw_metric,
                "diagonal_weight": self.dtw_diagonal_weight,
                "samples_per_class": self.dtw_samples_per_class,
            },
            "semantic": {"rule": self.rule, "eps": self.eps, "sigma": self.sigma, "k": self.k},
            "strict": self.strict,
        }

    def content_key(self) -> dict:
        """The flattened content keys: what staged work and a finished store depend on."""
        return {
            key: value
            for key, value in flatten(self.to_attrs()).items()
            if not key.startswith(SEMANTIC_PREFIX) and key not in POLICY_KEYS
        }


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
    excluded); a key absent on one side shows as None there."""
    old, new = flatten(stored), flatten(requested)
    keys = sorted((set(old) | set(new)) - POLICY_KEYS)
    return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]


def is_semantic_only(diffs: list[tuple[str, object, object]]) -> bool:
    """True when every difference is an adjacency-rule parameter."""
    return all(key.startswith(SEMANTIC_PREFIX) for key, _, _ in diffs)
