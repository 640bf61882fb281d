"""`--dataset folder` end to end: a folder written with numpy becomes a store holding the same
numbers up to the recorded alignment; every malformed input is named and skipped (or stops a
--strict build); a folder without labels.csv becomes an unlabelled store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from skelprep.cli import main
from skelprep.errors import RawFormatError
from skelprep.readers.folder import folder_splits
from skelprep.readers.folder_layout import load_layout_toml
from skelprep.store import validate_store
from skelprep.synth import generate

ARGS = ["build", "--dataset", "folder", "--workers", "1", "--quiet", "--max-frames", "40"]
LAYOUT = """\
name = "stick5"
joints = ["hip", "chest", "head", "right hand", "left hand"]
edges = [[0, 1], [1, 2], [1, 3], [1, 4]]
centre = 1
origin = 0
up = [0, 1]
across = [3, 4]
channels = ["x", "y", "z"]
"""
CLASSES = ["wave", "clap", "bow"]
V, C = 5, 3


def _sequence(rng: np.random.Generator, frames: int, bodies: int = 1) -> np.ndarray:
    """(M, T, V, C) stick figures drifting through the room, each body somewhere else."""
    base = np.array([[0, 0, 0], [0, 0, 0.5], [0, 0, 0.8], [-0.4, 0.1, 0.4], [0.4, 0.1, 0.4]])
    walk = np.cumsum(rng.normal(0, 0.02, (bodies, frames, 1, C)), axis=1)
    turn = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]])
    return (base @ rot.T)[None, None] + walk + rng.normal(0, 1, (bodies, 1, 1, C))


def _write(folder: Path, name: str, data: np.ndarray, as_csv: bool) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if as_csv:  # one person, one row per frame, joint-major, with a header
        header = ",".join(f"{axis}{j}" for j in range(V) for axis in "xyz")
        np.savetxt(folder / f"{name}.csv", data[0].reshape(len(data[0]), -1), delimiter=",",
                   header=header, comments="")  # fmt: skip
    else:
        np.save(folder / f"{name}.npy", data if len(data) > 1 else data[0])


def make_folder(root: Path, labelled: bool = True) -> dict[str, np.ndarray]:
    """12 samples (3 classes, 4 subjects; two .csv, one with two bodies); returns name -> raw."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    (root / "layout.toml").write_text(LAYOUT)
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    rows, raw = ["sample,label,subject,split_xsub,split_bysubject"], {}
    for i in range(12):
        name, label, subject = f"take{i:02d}", i % 3, i // 3
        raw[name] = _sequence(rng, 20 + i, bodies=2 if i == 5 else 1)
        _write(root / "sequences", name, raw[name], as_csv=i in (2, 7))
        label_cell = CLASSES[label] if i % 2 else str(label)  # names and indices both work
        xsub = "train" if subject < 3 else "test"
        rows.append(f"{name},{label_cell},{subject},{xsub},{'' if subject == 1 else xsub}")
    if labelled:
        (root / "labels.csv").write_text("\n".join(rows) + "\n")
    return raw


def build(raw: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, [*ARGS, "--raw", str(raw), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_folder_round_trips_through_the_recorded_alignment(tmp_path: Path) -> None:
    raw = make_folder(tmp_path / "mine")
    printed = build(tmp_path / "mine", tmp_path / "mine.zarr")
    assert "layout     stick5 (5 joints), aligned rigid-3d" in printed
    store = tmp_path / "mine.zarr"
    validate_store(store)
    group = zarr.open_group(str(store), mode="r")
    attrs = group.attrs
    assert attrs["classes"] == CLASSES and attrs["labelled"] is True
    assert attrs["layout"] == {
        **load_layout_toml(tmp_path / "mine" / "layout.toml").to_attrs(), "name": "stick5"
    }  # fmt: skip
    names = group["sample"][:].tolist()
    assert names == sorted(raw)
    np.testing.assert_array_equal(group["label"][:], [i % 3 for i in range(12)])
    np.testing.assert_array_equal(group["meta/subject"][:], [i // 3 for i in range(12)])
    test = group["splits/xsub/test"][:]
    np.testing.assert_array_equal(test, [9, 10, 11])
    bysubject = group["splits/bysubject/train"][:]  # empty cells: in neither part
    np.testing.assert_array_equal(bysubject, [0, 1, 2, 6, 7, 8])
    assert "semantic/xsub/adjacency" in group and "semantic/bysubject/adjacency" in group
    # three training subjects: every fifth holds out nobody, so no -val split
    assert sorted(group["splits"].group_keys()) == ["bysubject", "xsub"]
    joints, frames = group["joints"][:], group["frames"][:]
    matrix, offset = group["alignment/matrix"][:], group["alignment/offset"][:]
    for k, name in enumerate(names):
        original = raw[name]
        assert frames[k] == original.shape[1]
        aligned = joints[k, :, : frames[k], :, : len(original)].transpose(3, 1, 2, 0)
        back = aligned @ np.linalg.inv(matrix[k]).T + offset[k]
        np.testing.assert_allclose(back, original, atol=1e-5)
        body = aligned[0, 0]
        np.testing.assert_allclose(body[0], 0.0, atol=1e-6)  # origin joint at 0
        np.testing.assert_allclose((body[1] - body[0])[:2], 0.0, atol=1e-6)  # up bone on z
    unaligned = build(tmp_path / "mine", tmp_path / "plain.zarr", "--no-align")
    assert "not aligned (--no-align)" in unaligned
    plain = zarr.open_group(str(tmp_path / "plain.zarr"), mode="r")
    np.testing.assert_allclose(
        plain["joints"][0, :, : frames[0], :, 0].transpose(1, 2, 0), raw[names[0]][0], atol=1e-6
    )
    np.testing.assert_array_equal(
        plain["alignment/matrix"][:], np.broadcast_to(np.eye(3), (12, 3, 3))
    )


def _bad_inputs(root: Path) -> dict[str, tuple[str, int | None, str]]:
    """Break a good folder in every way a user can; returns sample -> (file, line, reason)."""
    sequences = root / "sequences"
    np.save(sequences / "take01.npy", np.zeros((20, V + 1, C)))  # another V
    np.save(sequences / "take03.npy", np.ones((20, V, C - 1)))  # another C
    nan = np.ones((20, V, C))
    nan[4, 2, 1] = np.nan
    np.save(sequences / "take04.npy", nan)
    csv = (sequences / "take07.csv").read_text().splitlines()
    csv[3] = csv[3].rsplit(",", 1)[0]  # ragged: one value short on line 4
    (sequences / "take07.csv").write_text("\n".join(csv) + "\n")
    text = (sequences / "take02.csv").read_text().splitlines()
    text[5] = "nan," + text[5].split(",", 1)[1]
    (sequences / "take02.csv").write_text("\n".join(text) + "\n")
    labels = (root / "labels.csv").read_text().splitlines()
    labels[6] = "take05,juggle,1,train,"
    labels.append("ghost,1,2,train,train")
    labels.append("take00,2,0,train,train")  # repeated: the first row (line 2) stands
    (root / "labels.csv").write_text("\n".join(labels) + "\n")
    np.save(sequences / "stray.npy", np.ones((20, V, C)))
    return {
        "take01": ("sequences/take01.npy", None, "shape (20, 6, 3): expected (T, 5, 3) for layout"),
        "take03": ("sequences/take03.npy", None, "shape (20, 5, 2): expected (T, 5, 3) for layout"),
        "take04": ("sequences/take04.npy", None, "non-finite value (NaN or inf) at index [4, 2, 1]"),
        "take07": ("sequences/take07.csv", 4, "14 values, expected 15"),
        "take02": ("sequences/take02.csv", 6, "non-finite value (NaN or inf)"),
        "take05": ("labels.csv", 7, "unknown class name 'juggle' (not in classes.txt)"),
        "ghost": ("labels.csv", 14, "sample ghost: no sequences/ghost.npy or .csv"),
        "stray": ("sequences/stray.npy", None, "no row for sample stray in labels.csv"),
        "take00": ("labels.csv", 15, "sample take00 already listed on line 2"),
    }  # fmt: skip


def test_each_malformed_input_is_named_and_skipped_or_stops_strict(tmp_path: Path) -> None:
    make_folder(tmp_path / "bad")
    expected = _bad_inputs(tmp_path / "bad")
    printed = build(tmp_path / "bad", tmp_path / "bad.zarr")
    assert f"skipped: {len(expected)} ({len(expected)} malformed;" in printed
    group = zarr.open_group(str(tmp_path / "bad.zarr"), mode="r")
    assert len(group["sample"][:]) == 12 - 6  # ghost and stray had no pair in the first place
    skipped = {(e["file"], e["line"]): e["reason"] for e in group.attrs["skipped"]}
    assert len(skipped) == len(expected)
    for file, line, reason in expected.values():
        assert skipped[(file, line)].startswith(reason)
    result = CliRunner().invoke(
        main, [*ARGS, "--raw", str(tmp_path / "bad"), "--out", str(tmp_path / "s.zarr"), "--strict"]
    )
    assert result.exit_code != 0 and "--strict stops at the first malformed file" in result.output
    assert any(f"{file}:{line}" in result.output if line else file in result.output
               for file, line, _ in expected.values())  # fmt: skip
    assert not (tmp_path / "s.zarr").exists()


def test_strict_stops_at_a_malformed_labels_row_before_any_sequence_is_read(
    tmp_path: Path,
) -> None:
    """The sequences are all well formed; one labels.csv row names an unknown class. Without
    --strict the row is skipped and recorded as malformed; with it the build stops naming
    labels.csv and the line (found by discovery, so no parse chunk reports it)."""
    make_folder(tmp_path / "raw")
    labels = (tmp_path / "raw" / "labels.csv").read_text().splitlines()
    labels[3] = labels[3].replace(",2,", ",juggle,", 1)  # take02, line 4
    (tmp_path / "raw" / "labels.csv").write_text("\n".join(labels) + "\n")
    assert "skipped: 1 (1 malformed;" in build(tmp_path / "raw", tmp_path / "lax.zarr")
    skipped = zarr.open_group(str(tmp_path / "lax.zarr"), mode="r").attrs["skipped"]
    assert skipped == [
        {"file": "labels.csv", "line": 4, "reason": "unknown class name 'juggle' (not in "
         "classes.txt)", "malformed": True}
    ]  # fmt: skip
    out = tmp_path / "strict.zarr"
    result = CliRunner().invoke(main, [*ARGS, "--raw", str(tmp_path / "raw"), "--out", str(out),
                                       "--strict"])  # fmt: skip
    assert result.exit_code != 0, result.output
    assert "labels.csv:4: unknown class name 'juggle'" in result.output
    assert "--strict stops at the first malformed file" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("[1, 4]]", "[1, 5]]"), 3, "edges: joint 5 outside 0..4"),
        (("[1, 4]]", "[2, 2]]"), 3, "edges: [2, 2] joins a joint to itself"),
        (("[1, 3], [1, 4]]", "[3, 4]]"), 3, "edges: joints [3, 4] are not connected"),
        (("up = [0, 1]", "up = [0]"), 6, "up: expected a pair of joint indices"),
        (("centre = 1", "centre = 9"), 4, "centre: joint 9 outside 0..4"),
        (('channels = ["x", "y", "z"]', "channels = []"), 8, "channels: expected a non-empty"),
        (("origin = 0", "origin = "), None, "not valid TOML"),
        (("origin = 0\n", ""), None, "missing keys ['origin']"),
    ],
)
def test_layout_errors_name_the_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int | None, message: str
) -> None:
    path = tmp_path / "layout.toml"
    path.write_text(LAYOUT.replace(*change))
    with pytest.raises(RawFormatError) as caught:
        load_layout_toml(path)
    assert caught.value.line == line and message in caught.value.reason
    assert str(path) in str(caught.value)


def test_a_bad_layout_stops_the_build(tmp_path: Path) -> None:
    make_folder(tmp_path / "raw")
    (tmp_path / "raw" / "layout.toml").write_text(LAYOUT.replace("[1, 4]]", "[1, 7]]"))
    result = CliRunner().invoke(
        main, [*ARGS, "--raw", str(tmp_path / "raw"), "--out", str(tmp_path / "s.zarr")]
    )
    assert result.exit_code != 0
    assert "layout.toml:3: edges: joint 7 outside 0..4" in result.output
    assert not (tmp_path / "s.zarr").exists()


def test_folder_without_labels_is_an_unlabelled_store(tmp_path: Path) -> None:
    make_folder(tmp_path / "new", labelled=False)
    printed = build(tmp_path / "new", tmp_path / "new.zarr")
    assert "unlabelled (every label -1, no splits)" in printed
    group = zarr.open_group(str(tmp_path / "new.zarr"), mode="r")
    assert group.attrs["labelled"] is False
    assert not list(group.get("splits", {})) and not list(group.get("semantic", {}))
    assert (group["label"][:] == -1).all() and len(group["label"][:]) == 12
    validate_store(tmp_path / "new.zarr")
    info = CliRunner().invoke(main, ["info", str(tmp_path / "new.zarr")])
    assert "unlabelled" in info.output
    plot = CliRunner().invoke(main, ["plot", str(tmp_path / "new.zarr"), "--split", "xsub",
                                     "--out", str(tmp_path / "plots")])  # fmt: skip
    assert plot.exit_code != 0 and "an unlabelled store has no splits" in plot.output


def test_unlabelled_flag_drops_the_labels_of_a_labelled_folder(tmp_path: Path) -> None:
    make_folder(tmp_path / "raw")
    build(tmp_path / "raw", tmp_path / "u.zarr", "--unlabelled")
    group = zarr.open_group(str(tmp_path / "u.zarr"), mode="r")
    assert (group["label"][:] == -1).all() and group.attrs["labelled"] is False
    validate_store(tmp_path / "u.zarr")


def test_unlabelled_flag_works_for_any_dataset(tmp_path: Path) -> None:
    generate("ntu", tmp_path / "raw", seed=1, classes=2, subjects=2, cameras=1, repetitions=1)
    result = CliRunner().invoke(main, [
        "build", "--dataset", "ntu60", "--raw", str(tmp_path / "raw"), "--out",
        str(tmp_path / "n.zarr"), "--unlabelled", "--quiet", "--workers", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    group = zarr.open_group(str(tmp_path / "n.zarr"), mode="r")
    assert group.attrs["labelled"] is False and (group["label"][:] == -1).all()
    assert len(group["label"][:]) == 4 and not list(group.get("splits", {}))
    validate_store(tmp_path / "n.zarr")


@pytest.fixture
def ten_subjects(tmp_path: Path) -> Path:
    """A folder of 40 tiny samples from 10 subjects (0-7 train, 8-9 test)."""
    (tmp_path / "sequences").mkdir()
    rows = ["sample,label,subject,split_xsub"]
    for i in range(40):
        np.save(tmp_path / "sequences" / f"s{i:02d}.npy", np.ones((3, V, C)))
        rows.append(f"s{i:02d},{i % 3},{i % 10},{'train' if i % 10 < 8 else 'test'}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_a_subject_column_gives_validation_splits_inside_the_train_part(ten_subjects: Path) -> None:
    names = [f"s{i:02d}" for i in range(40)]
    meta = {"subject": np.arange(40) % 10}
    splits = folder_splits(meta, np.arange(40) % 3, names, ten_subjects)
    assert sorted(splits) == ["xsub", "xsub-val"]
    train, test = splits["xsub"]
    val_train, val_test = splits["xsub-val"]
    assert sorted(set(meta["subject"][val_test])) == [4]  # the fifth of subjects 0..7
    np.testing.assert_array_equal(np.sort(np.concatenate([val_train, val_test])), train)
    assert not np.intersect1d(val_test, test).size
