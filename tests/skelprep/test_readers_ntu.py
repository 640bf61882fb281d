"""NTU reader on the real `.skeleton` files in ../shared/realdata (and their discovery rules)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, Sample, SampleRef, get_dataset
from skelprep.readers.ntu import parse_sample_id
from skelprep.readers.scan import FLAGGED, scan_numbers

pytestmark = pytest.mark.realdata
GARDIENS = "gardiens_plot_skeleton_NTU_RGB-D/S001C001P001R001A001.skeleton"
MMACTION = "open-mmlab_mmaction2/S001C001P001R001A001.skeleton"
TWO_BODIES = "LevelCA_NTU-RGB-D-skeleton-dataset-visualization/S001C003P008R002A058.skeleton"


def _ref(path: Path) -> SampleRef:
    return SampleRef(path.name.removesuffix(".skeleton"), path)


def _raw(path: Path) -> Sample:
    """The sample as the file holds it: no alignment, so joints are the file's x y z."""
    return get_dataset("ntu60").read(_ref(path), ReadOptions(align=False))


def test_every_real_sample_parses(realdata: Path) -> None:
    files = sorted(realdata.glob("*/*.skeleton"))
    assert len(files) == 7
    for path in files:
        sample = get_dataset("ntu60").read(_ref(path), ReadOptions())
        assert sample.joints.shape == (3, 300, 25, 2) and sample.joints.dtype == np.float32
        assert sample.frames == int(path.read_text().split()[0]) > 0  # the file's frame count
        assert 1 <= sample.bodies_kept <= sample.bodies_found
        assert np.isfinite(sample.joints).all() and sample.joints[:, : sample.frames].any()
        assert not sample.joints[:, sample.frames :].any()


def test_equals_official_txt2npy_output(realdata: Path) -> None:
    official = np.load(realdata / f"{GARDIENS}.npy", allow_pickle=True).item()["skel_body0"]
    sample = _raw(realdata / GARDIENS)
    assert sample.frames == len(official) and sample.bodies_found == 1
    xyz = sample.joints[:, : sample.frames, :, 0].transpose(1, 2, 0)  # (T, 25, 3) as txt2npy
    np.testing.assert_array_equal(xyz, official.astype(np.float32))


def test_crlf_and_lf_copies_give_identical_arrays(realdata: Path) -> None:
    assert b"\r\n" in (realdata / GARDIENS).read_bytes()
    assert b"\r\n" not in (realdata / MMACTION).read_bytes()
    for options in (ReadOptions(), ReadOptions(align=False)):
        spec = get_dataset("ntu60")
        s1 = spec.read(_ref(realdata / GARDIENS), options)
        s2 = spec.read(_ref(realdata / MMACTION), options)
        np.testing.assert_array_equal(s1.joints, s2.joints)
        assert s1.frames == s2.frames > 0


def test_two_body_sample_keeps_both_bodies(realdata: Path) -> None:
    sample = get_dataset("ntu60").read(_ref(realdata / TWO_BODIES), ReadOptions())
    assert (sample.bodies_found, sample.bodies_kept) == (2, 2)
    assert sample.joints[..., 0].any() and sample.joints[..., 1].any()
    assert sample.label == 57 and sample.meta == {
        "setup": 1,
        "camera": 3,
        "subject": 8,
        "replication": 2,
    }


def test_alignment_puts_spine_at_origin_and_spine_bone_on_z(realdata: Path) -> None:
    sample = get_dataset("ntu60").read(_ref(realdata / GARDIENS), ReadOptions())
    first = sample.joints[:, 0, :, 0].T.astype(np.float64)  # (25, 3)
    np.testing.assert_allclose(first[1], 0.0, atol=1e-6)  # middle of spine
    bone = first[1] - first[0]
    np.testing.assert_allclose(bone / np.linalg.norm(bone), [0, 0, 1], atol=1e-5)
    across = first[4] - first[8]
    assert across[0] > 0 and abs(across[1]) < 1e-5
    official = np.load(realdata / f"{GARDIENS}.npy", allow_pickle=True).item()["skel_body0"]
    raw = _raw(realdata / GARDIENS).joints[:, :103, :, 0]
    np.testing.assert_array_equal(raw, official.transpose(2, 0, 1).astype("f4"))


def test_sample_id_fields() -> None:
    assert parse_sample_id("S017C002P040R001A120") == {
        "setup": 17, "camera": 2, "subject": 40, "replication": 1, "action": 120,
    }  # fmt: skip
    with pytest.raises(ValueError, match="not an NTU sample id"):
        parse_sample_id("S1C1P1R1A1")


def test_discovery_honours_missing_list_and_dataset_range(realdata: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "skeletons").mkdir(parents=True)
    real = sorted({p.name: p for p in realdata.glob("*/*.skeleton")}.values())
    for path in real:
        (raw / "skeletons" / path.name).symlink_to(path)
    listing = realdata / "shahroudy_NTURGB-D/NTU_RGBD_samples_with_missing_skeletons.txt"
    (raw / listing.name).symlink_to(listing)
    missing_id = listing.read_text().split()[-1]
    (raw / "skeletons" / f"{missing_id}.skeleton").symlink_to(real[0])
    (raw / "skeletons" / "S018C001P001R001A061.skeleton").symlink_to(real[0])
    (raw / "skeletons" / "notes.skeleton").write_text("0\n")

    found = get_dataset("ntu60").discover(raw, ReadOptions())
    assert [r.name for r in found.refs] == sorted(p.name.removesuffix(".skeleton") for p in real)
    reasons = {Path(s["file"]).name: s["reason"] for s in found.skipped}
    assert "missing-skeleton list" in reasons[f"{missing_id}.skeleton"]
    assert "outside ntu60" in reasons["S018C001P001R001A061.skeleton"]
    assert "not an NTU sample id" in reasons["notes.skeleton"]
    malformed = {Path(s["file"]).name: s["malformed"] for s in found.skipped}
    assert malformed == {f"{missing_id}.skeleton": False, "S018C001P001R001A061.skeleton": False,
                         "notes.skeleton": True}  # fmt: skip
    assert len(found.classes) == 60 and found.classes[57] == "handshaking"

    wide = get_dataset("ntu120").discover(raw, ReadOptions())
    assert "S018C001P001R001A061" in [r.name for r in wide.refs] and len(wide.classes) == 120


def test_discovery_of_an_empty_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RawFormatError, match="no NTU"):
        get_dataset("ntu60").discover(tmp_path, ReadOptions())


def test_numbers_only_python_converts_give_the_same_sample(realdata: Path, tmp_path: Path) -> None:
    """A coordinate of 26 significant digits is outside the compiled scanner's exact path: it is
    converted by Python's float and the joints gathered again, to the same value."""
    source = realdata / MMACTION
    lines = source.read_text().splitlines(keepends=True)
    fields = lines[4].split(" ")  # the first joint line of the first body
    fields[0] = f"{float(fields[0]):.25f}"  # same float, 26 significant digits
    lines[4] = " ".join(fields)
    copy = tmp_path / source.name
    copy.write_text("".join(lines))
    scanned = scan_numbers(copy, copy.read_bytes())
    assert scanned.kind[scanned.line_first[4]] == FLAGGED  # left to Python indeed
    options = ReadOptions()
    original = get_dataset("ntu60").read(_ref(source), options).joints
    np.testing.assert_array_equal(get_dataset("ntu60").read(_ref(copy), options).joints, original)
    first = _raw(copy).joints[0, 0, 0, 0]
    assert first == np.float32(float(fields[0])) == _raw(source).joints[0, 0, 0, 0]
