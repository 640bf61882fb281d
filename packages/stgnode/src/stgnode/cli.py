"""The `stgnode` command line: a click group whose commands live in `stgnode.commands`.

Commands are imported lazily so that `stgnode --help` does not import torch.
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of its click.Command
COMMANDS: dict[str, str] = {
    "train": "stgnode.commands.train:train",
    "evaluate": "stgnode.commands.evaluate:evaluate",
    "fuse": "stgnode.commands.fuse:fuse",
    "export": "stgnode.commands.export:export",
    "predict": "stgnode.commands.predict:predict",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup)
@click.version_option(package_name="stgnode")
def main() -> None:
    """Train and evaluate STG-NODE skeleton action recognition models from a Zarr store."""


if __name__ == "__main__":
    main()
