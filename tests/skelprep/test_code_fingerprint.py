"""Which skelprep code wrote a store: the fingerprint, its place in the attrs, the warning on
reusing a store written by other code, and staged work of other code not being resumed."""

from __future__ import annotations

import shutil
from pathlib import Path

import zarr
from click.testing import CliRunner

from skelprep.build import staging
from skelprep.cli import main
from skelprep.fingerprint import PACKAGE, code_fingerprint
from skelprep.store import validate_store
from skelprep.synth import generate


def test_the_fingerprint_follows_the_modules_that_shape_a_store(tmp_path: Path) -> None:
    """A copy of the package has the package's fingerprint; editing a reader changes it,
    editing the command line or the synthetic writer does not."""
    copy = tmp_path / "skelprep"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert code_fingerprint(copy) == code_fingerprint()
    for k, (rel, changes) in enumerate(
        [("commands/build.py", False), ("synth/__init__.py", False), ("readers/ntu.py", True)]
    ):
        edited = tmp_path / f"edit-{k}"
        shutil.copytree(copy, edited)
        with (edited / rel).open("a") as module:
            module.write("\n# edited\n")
        assert (code_fingerprint(edited) != code_fingerprint(copy)) is changes, rel


def test_reusing_a_store_of_other_code_warns_and_force_rebuilds(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    generate("ntu", raw, seed=0, classes=2, subjects=2, cameras=1, repetitions=1)
    store = tmp_path / "s.zarr"
    args = ["build", "--dataset", "ntu60", "--raw", str(raw), "--out", str(store), "--quiet",
            "--workers", "1"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert zarr.open_group(str(store), mode="r").attrs["skelprep_code"] == code_fingerprint()
    result = CliRunner().invoke(main, args)
    assert "reusing" in result.output and "warning" not in result.output

    zarr.open_group(str(store), mode="r+").attrs["skelprep_code"] = "0" * 64
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and "reusing" in result.output, result.output
    assert "written by skelprep code 000000000000, not by this skelprep" in result.output
    assert "--force rebuilds it" in result.output
    attrs = zarr.open_group(str(store), mode="r+").attrs
    del attrs["skelprep_code"]  # a store written before the key existed
    result = CliRunner().invoke(main, args)
    assert "skelprep code that did not record itself" in result.output
    assert validate_store(store)

    result = CliRunner().invoke(main, [*args, "--force"])
    assert result.exit_code == 0 and "rebuilt (--force)" in result.output, result.output
    assert "skelprep_code: stored None" in result.output
    assert zarr.open_group(str(store), mode="r").attrs["skelprep_code"] == code_fingerprint()
    assert "warning" not in CliRunner().invoke(main, args).output


def test_staged_work_of_other_code_is_not_resumed(tmp_path: Path) -> None:
    partial = tmp_path / "s.zarr.partial"
    partial.mkdir()
    staging.prepare(partial, {"dataset": "ntu60"}, "raw-fingerprint", "code-a")
    chunk = partial / "staging" / "parse" / "chunk_00000.npz"
    chunk.parent.mkdir(parents=True)
    chunk.write_bytes(b"staged")
    staging.prepare(partial, {"dataset": "ntu60"}, "raw-fingerprint", "code-a")
    assert chunk.exists()  # the same code resumes its own work
    state = staging.prepare(partial, {"dataset": "ntu60"}, "raw-fingerprint", "code-b")
    assert not chunk.exists() and state["code"] == "code-b"
