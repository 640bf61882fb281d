"""`skelprep build` end to end on a synthetic NTU set: the store it writes, reuse, mismatch,
re-applying only the adjacency rule, --force, malformed files, --strict, and bad requests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from skelprep.build import Action, BuildParams, BuildRequest, build_store, cluster
from skelprep.cli import main
from skelprep.readers import get_dataset
from skelprep.store import validate_store
from skelprep.store.compare import content_digest
from skelprep.synth import generate

CHUNK = 4
ARGS = ["--dataset", "ntu60", "--chunk-size", str(CHUNK), "--workers", "2", "--quiet"]


def make_raw(out: Path) -> Path:
    """24 synthetic NTU samples (3 classes, 4 performers, 2 cameras), 2 written empty."""
    generate(
        "ntu", out, seed=0, classes=3, subjects=4, cameras=2, repetitions=1, empty_fraction=0.1
    )
    return out


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw dir, store) of one uninterrupted build, shared by the read-only checks."""
    root = tmp_path_factory.mktemp("build")
    raw = make_raw(root / "raw")
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", root / "s.zarr")
    assert code == 0, out
    return raw, root / "s.zarr"


def test_store_follows_the_schema(built: tuple[Path, Path]) -> None:
    raw, store = built
    assert validate_store(store) == ["attributes", "arrays", "values", "splits", "semantic"]
    group = zarr.open_group(str(store), mode="r")
    assert "consolidated_metadata" in (store / "zarr.json").read_text()
    names = group["sample"][:].tolist()
    assert names == sorted(names) and len(names) == 22
    assert group["joints"].chunks[0] == CHUNK
    codec = group["joints"].compressors[0]
    assert (codec.cname.value, codec.clevel) == ("zstd", 1)
    skipped = group.attrs["skipped"]
    assert len(skipped) == 2 and all(
        set(s) == {"file", "line", "reason", "malformed"} for s in skipped
    )
    assert group.attrs["stats"]["samples"] == 22
    assert not list(store.parent.glob("*.partial"))


def test_rows_equal_a_direct_read(built: tuple[Path, Path]) -> None:
    raw, store = built
    group = zarr.open_group(str(store), mode="r")
    spec = get_dataset("ntu60")
    options = BuildParams(dataset="ntu60").read_options()
    refs = {ref.name: ref for ref in spec.discover(raw, options).refs}
    for row in (0, 9, 21):
        sample = spec.read(refs[str(group["sample"][row])], options)
        np.testing.assert_array_equal(group["joints"][row], sample.joints)
        assert group["frames"][row] == sample.frames
        assert group["label"][row] == sample.label
        assert group["meta/subject"][row] == sample.meta["subject"]


def test_semantic_uses_train_samples_only(built: tuple[Path, Path]) -> None:
    _, store = built
    group = zarr.open_group(str(store), mode="r")
    for split in ("xsub", "xview"):
        train = group[f"splits/{split}/train"][:]
        assert group[f"semantic/{split}"].attrs["samples_used"] == len(train)


def test_reuse_mismatch_rule_and_force(built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, original = built
    store = tmp_path / "s.zarr"
    shutil.copytree(original, store)
    before = content_digest(store)
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store)
    assert code == 0 and "reusing" in out
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--dtw-radius", "2")
    assert code != 0 and "dtw.radius: stored 1, requested 2" in out and "--force" in out
    assert content_digest(store) == before
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--eps", "0.3")
    assert code == 0 and "semantic.eps: stored 0.6, requested 0.3" in out
    group = zarr.open_group(str(store), mode="r")
    assert group.attrs["build"]["semantic"]["eps"] == 0.3
    assert group["semantic/xsub"].attrs["params"]["eps"] == 0.3
    np.testing.assert_array_equal(
        group["semantic/xsub/distance"][:],
        zarr.open_group(str(original))["semantic/xsub/distance"][:],
    )
    validate_store(store)
    code, out = run_cli(
        "build", *ARGS, "--raw", raw, "--out", store, "--max-frames", "50", "--force"
    )
    assert code == 0 and "max_frames: stored 300, requested 50" in out, out
    assert zarr.open_group(str(store), mode="r")["joints"].shape[2] == 50


def test_touching_a_raw_file_is_a_mismatch(built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, original = built
    copy = tmp_path / "raw"
    shutil.copytree(raw, copy)
    params = BuildParams(dataset="ntu60", chunk_size=CHUNK)
    store = tmp_path / "s.zarr"
    result = build_store(BuildRequest(params, copy, store, workers=1, progress=False))
    assert result.action is Action.BUILD
    assert build_store(BuildRequest(params, copy, store, progress=False)).action is Action.REUSE
    victim = next(copy.glob("*.skeleton"))
    victim.write_bytes(victim.read_bytes() + b"\n")
    code, out = run_cli("build", *ARGS, "--raw", copy, "--out", store)
    assert code != 0 and "source.fingerprint" in out


def written_files(store: Path, raw: Path) -> list[Path]:
    """The raw files of the samples a store holds (not the ones written empty)."""
    return [raw / f"{name}.skeleton" for name in zarr.open_group(str(store))["sample"][:].tolist()]


def test_malformed_files_are_skipped_and_listed(built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, original = built
    copy = tmp_path / "raw"
    shutil.copytree(raw, copy)
    files = written_files(original, copy)
    lines = files[3].read_text().splitlines(keepends=True)
    files[3].write_text("".join(lines[:40]))  # truncated inside a body
    files[10].write_text(files[10].read_text().replace("25", "24", 1))  # wrong joint count
    store = tmp_path / "s.zarr"
    code, out = run_cli("build", *ARGS, "--raw", copy, "--out", store)
    assert code == 0, out
    skipped = {s["file"]: s for s in zarr.open_group(str(store), mode="r").attrs["skipped"]}
    assert skipped[files[3].name]["line"] == 41 and "ends early" in skipped[files[3].name]["reason"]
    assert "24" in skipped[files[10].name]["reason"]
    assert zarr.open_group(str(store), mode="r")["frames"].shape == (20,)
    validate_store(store)
    # rows after a skipped sample no longer line up with the staged chunks: those store chunks
    # are decoded and rewritten, the first is linked; every sample keeps its joints
    group, whole = zarr.open_group(str(store), mode="r"), zarr.open_group(str(original), mode="r")
    rows = {name: i for i, name in enumerate(whole["sample"][:].tolist())}
    kept = [rows[name] for name in group["sample"][:].tolist()]
    np.testing.assert_array_equal(
        group["joints"][:], whole["joints"].get_orthogonal_selection((kept,))
    )


def test_strict_stops_and_keeps_everything(built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, original = built
    copy = tmp_path / "raw"
    shutil.copytree(raw, copy)
    store = tmp_path / "s.zarr"
    shutil.copytree(original, store)
    before = content_digest(store)
    bad = written_files(original, copy)[-1]
    bad.write_text(bad.read_text().replace("\n", "\nnan 1 2\n", 30)[:5000])
    code, out = run_cli("build", *ARGS, "--raw", copy, "--out", store, "--strict", "--force")
    assert code != 0 and bad.name in out and "--strict" in out
    assert content_digest(store) == before
    staged = list((tmp_path / "s.zarr.partial" / "staging" / "parse").glob("chunk_*.npz"))
    assert staged, "chunks parsed before the stop are kept for the resume"
    code, out = run_cli("build", *ARGS, "--raw", copy, "--out", store, "--force")
    skipped = zarr.open_group(str(store), mode="r").attrs["skipped"]
    assert code == 0 and [r["malformed"] for r in skipped if r["file"] == bad.name] == [True]
    before = content_digest(store)
    code, out = run_cli("build", *ARGS, "--raw", copy, "--out", store, "--strict")
    assert code != 0 and "1 raw file(s) that may be malformed" in out and bad.name in out, out
    assert content_digest(store) == before


def test_strict_reuses_only_a_store_that_could_not_hide_a_malformed_file(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """`built` skipped its 2 missing-list files, which are not malformed: --strict reuses it.
    The same store as written before skip records said so (no `malformed` key) may hide a
    malformed file: --strict refuses it, naming them; --strict --force rebuilds it, and that
    store is then reused by --strict and without."""
    raw, original = built
    store = tmp_path / "s.zarr"
    shutil.copytree(original, store)
    records = zarr.open_group(str(store), mode="r").attrs["skipped"]
    assert len(records) == 2 and not any(record["malformed"] for record in records)
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--strict")
    assert code == 0 and "reusing" in out, out
    root = json.loads((store / "zarr.json").read_text())
    for record in root["attributes"]["skipped"]:
        del record["malformed"]
    (store / "zarr.json").write_text(json.dumps(root))
    validate_store(store)
    before = content_digest(store)
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--strict")
    assert code != 0 and "skipped 2 raw file(s) that may be malformed" in out, out
    assert all(record["file"] in out for record in records) and "--force" in out
    assert content_digest(store) == before
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--strict", "--force")
    assert code == 0 and "wrote" in out and "skipped: 2 (0 malformed;" in out, out
    assert zarr.open_group(str(store), mode="r").attrs["build"]["strict"] is True
    for strict in (["--strict"], []):
        code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, *strict)
        assert code == 0 and "reusing" in out, (strict, out)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "does not exist"),
        (lambda d: d.mkdir(), "holds no files"),
        (lambda d: (d.mkdir(), (d / "notes.txt").write_text("x")), "no NTU *.skeleton files found"),
    ],
)
def test_bad_raw_directory(tmp_path: Path, setup, message: str) -> None:
    raw = tmp_path / "raw"
    setup(raw)
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", tmp_path / "s.zarr")
    assert code != 0 and message in out and str(raw) in out


@pytest.mark.parametrize("listening", [False, True], ids=["refused", "silent"])
def test_unanswered_scheduler_ends_the_build_after_the_connect_timeout(
    built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listening: bool
) -> None:
    """A scheduler address that refuses the connection, or accepts it (the kernel's backlog)
    and never speaks Dask's protocol, ends the build with an error that names the configured
    connect timeout; a silent peer does not hang it."""
    raw, _ = built
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    with socket.socket() as peer:
        peer.bind(("127.0.0.1", 0))
        if listening:
            peer.listen()  # connections complete, but nothing ever reads or writes
        address = f"tcp://127.0.0.1:{peer.getsockname()[1]}"
        code, out = run_cli(
            "build", *ARGS, "--raw", raw, "--out", tmp_path / "s.zarr", "--scheduler", address
        )
    assert code != 0 and f"dask scheduler {address} did not answer within 1 s" in out, out
    assert "()" not in out  # the reason is never empty
    assert not (tmp_path / "s.zarr").exists()


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (a real filesystem that fills up), unmounted afterwards; needs root."""
    mount = tmp_path / "fs"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _small_previous(raw: Path, fs: Path) -> Path:
    """A finished store (8 frames, so it fits the tmpfs) at fs/s.zarr."""
    store = fs / "s.zarr"
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--max-frames", "8")
    assert code == 0, out
    return store


def test_disk_full_fails_clearly_and_keeps_the_previous_store(
    built: tuple[Path, Path], tmpfs: Path
) -> None:
    raw, _ = built
    store = _small_previous(raw, tmpfs)
    before = content_digest(store)
    free = os.statvfs(tmpfs)
    # leave 16 KiB free: far less than the 300-frame build stages, however well it compresses
    (tmpfs / "ballast").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 16 * 1024))
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--force")
    assert code != 0 and "No space left on device" in out and "untouched" in out, out
    assert content_digest(store) == before
    validate_store(store)


def test_read_only_output_fails_clearly_and_keeps_the_previous_store(
    built: tuple[Path, Path], tmpfs: Path
) -> None:
    raw, _ = built
    store = _small_previous(raw, tmpfs)
    before = content_digest(store)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    code, out = run_cli("build", *ARGS, "--raw", raw, "--out", store, "--force")
    assert code != 0 and "Read-only file system" in out and "untouched" in out, out
    assert content_digest(store) == before
