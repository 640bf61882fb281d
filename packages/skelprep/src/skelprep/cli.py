"""The `skelprep` command line: a click group whose commands live in `skelprep.commands`.

Commands are imported lazily so that `skelprep --help` stays fast (numba and dask load only
for the command that needs them).
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of its click.Command
COMMANDS: dict[str, str] = {
    "synth": "skelprep.commands.synth:synth",
    "build": "skelprep.commands.build:build",
    "semantic": "skelprep.commands.semantic:semantic",
    "info": "skelprep.commands.inspect:info",
    "validate": "skelprep.commands.inspect:validate",
    "plot": "skelprep.commands.plot:plot",
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
@click.version_option(package_name="skelprep")
def main() -> None:
    """Turn raw skeleton datasets into one self-describing Zarr store."""


if __name__ == "__main__":
    main()
