"""`skelprep synth`: write a synthetic skeleton dataset in a real raw format (NTU or Kinetics).

Why: the demo and most tests need raw files that the real readers parse unchanged; this command
is the user-facing door to `skelprep.synth.generate`.
"""

from __future__ import annotations

from pathlib import Path

import click

from skelprep.synth import MOTIONS, SynthSize, generate

DEFAULT = SynthSize()


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["ntu", "kinetics"]), required=True, help="Raw format."
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output directory.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--classes",
    type=click.IntRange(1, len(MOTIONS)),
    default=DEFAULT.classes,
    show_default=True,
    help="Number of classes (the first K of the class list).",
)
@click.option(
    "--subjects",
    type=click.IntRange(1, 40),
    default=DEFAULT.subjects,
    show_default=True,
    help="Performers, alternately from the NTU60 cross-subject train and test lists.",
)
@click.option(
    "--cameras",
    type=click.IntRange(1, 3),
    default=DEFAULT.cameras,
    show_default=True,
    help="Cameras 1..N of the NTU rig.",
)
@click.option(
    "--repetitions",
    type=click.IntRange(1, 999),
    default=DEFAULT.repetitions,
    show_default=True,
    help="Takes per performer and class.",
)
@click.option(
    "--empty-fraction",
    type=click.FloatRange(0.0, 1.0, max_open=True),
    default=DEFAULT.empty_fraction,
    show_default=True,
    help="Fraction of samples written without skeletons (listed as missing).",
)
def synth(
    fmt: str,
    out: Path,
    seed: int,
    classes: int,
    subjects: int,
    cameras: int,
    repetitions: int,
    empty_fraction: float,
) -> None:
    """Write a synthetic dataset of NTU-named actions in the NTU or Kinetics raw format."""
    try:
        summary = generate(
            fmt,
            out,
            seed,
            classes=classes,
            subjects=subjects,
            cameras=cameras,
            repetitions=repetitions,
            empty_fraction=empty_fraction,
        )
    except (FileExistsError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"wrote {len(summary.samples)} {fmt} samples ({len(summary.empty)} without skeletons, "
        f"{len(summary.classes)} classes) to {summary.out} in {summary.seconds:.1f} s"
    )
