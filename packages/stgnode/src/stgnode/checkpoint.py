"""Checkpoints: atomic save, safe load, compatibility checks, and loading a model for inference.

A checkpoint holds everything to continue a run exactly: model (and its EMA), optimizer,
scheduler and GradScaler states, the RNG states (python, numpy, torch CPU and CUDA), the
finished epoch, the resolved config, the store context the model was built from, the run
signature and the best test top-1. Saving writes `<name>.tmp` in the same directory, fsyncs it
and renames it over `<name>` (os.replace), so a kill at any moment leaves either the old or the
new file, never a half-written one; a `.tmp` is never read. Loading uses
`torch.load(weights_only=True)`: a checkpoint cannot run code.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stgnode.config import ConfigError, with_defaults
from stgnode.errors import StgnodeError
from stgnode.killpoint import kill_point
from stgnode.models import MODELS, build_model, model_signature
from stgnode.schedule import lr_factor

FORMAT = "stgnode.checkpoint/1"
LAST, BEST = "last.pt", "best.pt"
# config keys that may change between a run and its resume without changing its results
# (`train.epochs` only while the trained steps' learning rates stay the same: check_schedule_kept)
RESUME_FREE = {
    "name",
    "train.epochs",
    "train.device",
    "train.tensorboard",
    "train.eval_every",
    "data.num_workers",
}


class CheckpointError(StgnodeError):
    """A checkpoint that is missing, unreadable, or does not belong to this model and config."""


def capture_rng() -> dict[str, Any]:
    """Every random state a training step draws from, in a form `weights_only` loading accepts."""
    name, key, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002 (the global state libraries use)
    return {
        "python": random.getstate(),
        "numpy": [name, torch.from_numpy(key.astype(np.int64)), pos, has_gauss, cached],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Put back the random states `capture_rng` took."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, key, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, key.numpy().astype(np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write `state` to `path` atomically: temp file in the same directory, fsync, rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        torch.save({"format": FORMAT, **state}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    kill_point("saved", state.get("epoch", 0))
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with `weights_only=True` onto the CPU; refuse anything else clearly.

    Its config (every run's checkpoint carries one) comes back complete: a key added to the
    base after the checkpoint was written takes its default (`config.with_defaults`), so resume
    checks, evaluation and export all read an older run the way it was trained.
    """
    path = Path(path)
    if path.name.endswith(".tmp"):
        raise CheckpointError(f"{path} is an unfinished write, never a checkpoint")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, foreign pickle, ...: all mean "not ours"
        raise CheckpointError(f"{path} is not a readable stgnode checkpoint: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} checkpoint")
    if "config" in state:
        state["config"] = with_defaults(state["config"])
    return state


def find_checkpoint(run_or_ckpt: str | Path, prefer: str = LAST) -> Path:
    """A checkpoint file itself, or in a run directory `prefer` (last.pt) else last.pt.

    last.pt is the default because best.pt is chosen by its test top-1: scoring it on that
    same test split is optimistic. best.pt is only read when asked for by name.
    """
    path = Path(run_or_ckpt)
    if path.is_dir():
        names = list(dict.fromkeys((prefer, LAST)))
        for name in names:
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"run directory {path} holds no {' or '.join(names)}")
    return path


def model_overrides(config: dict[str, Any]) -> dict[str, Any]:
    """The `[model]` keys other than `name`: hyper-parameters passed to `build_model`."""
    return {k: v for k, v in config["model"].items() if k != "name"}


def needs_semantic(model_name: str) -> bool:
    """Whether a variant's second branch runs over the store's semantic adjacency."""
    if model_name not in MODELS:
        raise ConfigError(f"unknown model {model_name!r}; known: {sorted(MODELS)}")
    return MODELS[model_name].defaults.get("branch_graph") == "semantic"


def build_run_model(config: dict[str, Any], context: dict[str, Any]) -> nn.Module:
    """Build the config's model for the store `context` (see `stgnode.store.model_context`)."""
    semantic = context["semantic_adjacency"]
    return build_model(
        config["model"]["name"],
        **{**context, "semantic_adjacency": None if semantic is None else np.asarray(semantic)},
        window=config["data"]["window"],
        **model_overrides(config),
    )


def run_signature(config: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint must match: the model's signature plus the input stream."""
    model_config = {**context, "window": config["data"]["window"], **model_overrides(config)}
    return {
        **model_signature(config["model"]["name"], model_config),
        "stream": config["data"]["stream"],
    }


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _differences(saved: dict[str, Any], current: dict[str, Any], ignore: set[str]) -> list[str]:
    keys = sorted((set(saved) | set(current)) - ignore)
    return [
        f"{k}: checkpoint {str(saved.get(k, '<unset>'))[:60]} != now {str(current.get(k, '<unset>'))[:60]}"
        for k in keys
        if saved.get(k) != current.get(k)
    ]


def check_compatible(
    state: dict[str, Any], signature: dict[str, Any], config: dict[str, Any], path: Path
) -> None:
    """Refuse a checkpoint from another model, layout or config, naming every difference."""
    problems = _differences(state["signature"], signature, set())
    problems += _differences(_flatten(state["config"]), _flatten(config), RESUME_FREE)
    if problems:
        raise CheckpointError(
            f"checkpoint {path} was written by another model or config; differences:\n  "
            + "\n  ".join(problems)
        )


def check_schedule_kept(
    state: dict[str, Any], config: dict[str, Any], steps_per_epoch: int, path: Path
) -> None:
    """Refuse a resume whose new `train.epochs` would have given the trained steps other rates.

    Changing `train.epochs` on a resume (to train a run longer) is sound only while the
    learning rates of the steps already taken stay what the new length gives them: during the
    warm-up, or with the `step` schedule. A cosine schedule stretches with the run, so a
    finished 60-epoch run resumed as 120 epochs would jump back to mid-schedule rates and match
    neither recipe.
    """
    before, after = state["config"]["train"]["epochs"], config["train"]["epochs"]
    if before == after:
        return
    done = state["scheduler"]["last_epoch"]
    old = lr_factor(state["config"]["schedule"], steps_per_epoch, before)
    new = lr_factor(config["schedule"], steps_per_epoch, after)
    changed = next((step for step in range(done) if old(step) != new(step)), None)
    if changed is not None:
        raise CheckpointError(
            f"checkpoint {path}: train.epochs {before} -> {after} changes the learning rate of "
            f"step {changed} of the {done} already trained ({config['schedule']['name']} "
            "schedule); train the new length in a new run directory (--out)"
        )


def load_for_inference(
    run_or_ckpt: str | Path, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any], dict[str, Any]]:
    """(model in eval mode with the checkpoint's weights, its config, its store info).

    `run_or_ckpt` is a run directory (its last.pt) or a checkpoint file. The store
    info is a dict: path, dataset, classes, layout, channels, fingerprint and split of the
    store the run trained on, `train_samples` (a digest of its training sample ids; absent from
    older checkpoints), plus `context` (what the model was built from); the model is
    rebuilt from the checkpoint alone, without opening the store. A run trained with
    `train.ema_epochs` gives its averaged weights (`stgnode.ema`), the ones it was scored with.
    """
    path = find_checkpoint(run_or_ckpt)
    state = load_checkpoint(path)
    info = state["store"]
    model = build_run_model(state["config"], info["context"])
    model.load_state_dict(state.get("ema", state["model"]))
    return model.to(device).eval(), state["config"], info
