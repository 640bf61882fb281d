"""Training configs as TOML data: load a named config or a file, apply `key=value` overrides, save.

Every config is merged over `configs/base.toml`, which lists every key with its default; a key
the base does not know (in a file or an override) is refused, naming the file and the known
keys, so a typo never silently trains with a default. A config may start with
`extends = "other"` (a shipped name, or a .toml path relative to the file): it is then merged
over that config instead of the bare base, so a split's config states only what differs. The
`[model]` table is free-form: its keys other than `name` go to the model builder as overrides.
The resolved config is written into each run directory as `config.toml` with the small writer
below (the config holds only tables, strings, numbers, booleans and lists of those).
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from stgnode.errors import StgnodeError

CONFIG_DIR = Path(__file__).parent / "configs"
BASE = "base"
BASE_FILE = CONFIG_DIR / f"{BASE}.toml"  # every key a config may set, with its default
EXTENDS = "extends"  # top-level key naming the config a file is merged over
FREE_FORM = ("model",)  # tables whose keys are not checked against the base


class ConfigError(StgnodeError):
    """A config file or override that cannot be used."""


def available() -> list[str]:
    """Names of the shipped configs (files in configs/ without the base)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.toml") if p.stem != BASE)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _resolve(name_or_path: str | Path, relative_to: Path = Path()) -> Path:
    path = relative_to / name_or_path
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        return path
    shipped = CONFIG_DIR / f"{name_or_path}.toml"
    if not shipped.is_file() or str(name_or_path) == BASE:
        raise ConfigError(f"unknown config {str(name_or_path)!r}; shipped: {available()}")
    return shipped


def _merge(base: dict, update: dict, origin: str, prefix: str = "") -> None:
    """Merge `update` into `base` in place, refusing unknown keys and mismatched types."""
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            if prefix.rstrip(".") in FREE_FORM:
                base[key] = value
                continue
            known = sorted(base) if base else []
            raise ConfigError(f"{origin}: unknown key {dotted!r}; known here: {known}")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: {dotted!r} must be a table")
            _merge(base[key], value, origin, dotted + ".")
        else:
            base[key] = _coerce(base[key], value, f"{origin}: {dotted!r}")


def _coerce(default: Any, value: Any, where: str) -> Any:
    if isinstance(default, bool) or isinstance(value, bool):
        if type(default) is not type(value):
            raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int):
        return float(value)
    if isinstance(default, list) and isinstance(value, list):
        return value
    if type(default) is not type(value):
        raise ConfigError(f"{where} must be {type(default).__name__}, got {value!r}")
    return value


def parse_override(text: str) -> dict[str, Any]:
    """`a.b=value` -> {"a": {"b": value}}; the value is read as TOML, else as a bare string."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not of the form key=value")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    nested: dict[str, Any] = {}
    node = nested
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return nested


def _lineage(path: Path, below: tuple[Path, ...] = ()) -> list[tuple[Path, dict[str, Any]]]:
    """The file and the configs it `extends`, each with its table, the farthest ancestor first."""
    table = _read(path)
    parent = table.pop(EXTENDS, None)
    if parent is None:
        return [(path, table)]
    if not isinstance(parent, str):
        raise ConfigError(f"{path}: {EXTENDS!r} must name a config or a .toml file, got {parent!r}")
    parent_path = _resolve(parent, relative_to=path.parent).resolve()
    chain = (*below, path.resolve())
    if parent_path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, parent_path))
        raise ConfigError(f"{path}: {EXTENDS!r} makes a cycle: {cycle}")
    return [*_lineage(parent_path, chain), (path, table)]


def load_config(name_or_path: str | Path, overrides: list[str] | None = None) -> dict[str, Any]:
    """The resolved config: base, the configs the named one extends, it, each `key=value`."""
    config = _read(BASE_FILE)
    path = _resolve(name_or_path)
    for layer, table in _lineage(path):
        _merge(config, table, str(layer))
    for text in overrides or []:
        _merge(config, parse_override(text), f"override {text!r}")
    config["name"] = path.stem if config.get("name", "") == "" else config["name"]
    return config


def with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of `config` in which every key of the base it lacks takes the base's default.

    A checkpoint written before a key was added to the base (`data.mirror`, say) reads as if it
    had been trained with that key's default, which is what it was trained with.
    """
    out = copy.deepcopy(config)
    _fill(out, _read(BASE_FILE))
    return out


def _fill(target: dict[str, Any], defaults: dict[str, Any]) -> None:
    for key, value in defaults.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(target[key], dict):
            _fill(target[key], value)


def merge_overrides(config: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of an already resolved config with more `key=value` overrides applied."""
    out = copy.deepcopy(config)
    for text in overrides:
        _merge(out, parse_override(text), f"override {text!r}")
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {type(value).__name__} value {value!r} to TOML")


def dumps_toml(config: dict[str, Any], prefix: str = "") -> str:
    """Serialize a config (nested tables of scalars and lists) as TOML that tomllib reads back."""
    scalars = [f"{key} = {_value(v)}" for key, v in config.items() if not isinstance(v, dict)]
    lines = ([f"[{prefix}]"] if prefix and scalars else []) + scalars
    blocks = ["\n".join(lines)] if lines else []
    for key, v in config.items():
        if isinstance(v, dict):
            name = f"{prefix}.{key}" if prefix else key
            blocks.append(dumps_toml(v, name) if v else f"[{name}]")
    return "\n\n".join(block for block in blocks if block) + ("\n" if not prefix else "")


def save_config(config: dict[str, Any], path: Path) -> None:
    """Write the resolved config as TOML (what `stgnode evaluate` and `--resume` read back)."""
    path.write_text(dumps_toml(config))
