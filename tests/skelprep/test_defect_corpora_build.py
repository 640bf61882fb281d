"""Reliability: the NTU and Kinetics defect corpora (raw_corpus) through a real `skelprep build`:
skipped and recorded in attrs `skipped` (file, line, reason) by default, the build stopped by
`--strict` with the previous store left as it was, and the store valid in both cases."""

from __future__ import annotations

from pathlib import Path

import pytest
import zarr

from skelprep.store import validate_store
from skelprep.store.compare import content_digest
from skelprep.synth import generate
from tests.skelprep.raw_corpus import (
    BUILD,
    KINETICS_MALFORMED,
    LINES,
    NTU_MALFORMED,
    TRUNCATED_WHAT,
    encode,
    kinetics_root,
    nth,
    run_cli,
)

NTU_TRUNCATIONS = {
    "truncated before the frame count": (b"", 1, "empty file"),
    "truncated before a body count": (encode(LINES[: nth("body count", 4)]),
                                      nth("body count", 4) + 1, TRUNCATED_WHAT["body count"]),
    "truncated before a body line": (encode(LINES[: nth("body line", 9)]),
                                     nth("body line", 9) + 1, TRUNCATED_WHAT["body line"]),
    "truncated before a joint count": (encode(LINES[: nth("joint count", 2)]),
                                       nth("joint count", 2) + 1, TRUNCATED_WHAT["joint count"]),
    "truncated inside a joint block": (encode(LINES[: nth("joint line", 310)]),
                                       nth("joint line", 310) + 1, TRUNCATED_WHAT["joint line"]),
}  # fmt: skip


@pytest.fixture(scope="module")
def ntu_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple]]:
    """A raw directory of 8 valid synthetic samples and one file per NTU defect and truncation;
    returns it with {file name: (kind, line, phrase)} of the malformed ones."""
    raw = tmp_path_factory.mktemp("ntu-corpus") / "raw"
    generate("ntu", raw, seed=0, classes=2, subjects=2, cameras=2, repetitions=1,
             empty_fraction=0.0)  # fmt: skip
    cases = {kind: make() for kind, make in NTU_MALFORMED.items()} | NTU_TRUNCATIONS
    assert len(cases) <= 60
    expected = {}
    for number, (kind, (data, line, phrase)) in enumerate(sorted(cases.items()), start=1):
        name = f"S017C003P040R002A{number:03d}.skeleton"
        (raw / name).write_bytes(data)
        expected[name] = (kind, line, phrase)
    return raw, expected


@pytest.fixture(scope="module")
def ntu_corpus_store(ntu_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw, _ = ntu_corpus
    store = tmp_path_factory.mktemp("ntu-store") / "s.zarr"
    code, out = run_cli(*BUILD, "--dataset", "ntu60", "--raw", raw, "--out", store)
    assert code == 0, out
    return store


def test_ntu_corpus_build_skips_and_records_every_malformed_file(ntu_corpus, ntu_corpus_store):
    raw, expected = ntu_corpus
    group = zarr.open_group(str(ntu_corpus_store), mode="r")
    skipped = {s["file"]: s for s in group.attrs["skipped"]}
    assert set(skipped) == set(expected)
    for name, (kind, line, phrase) in expected.items():
        assert skipped[name]["line"] == line, (kind, skipped[name])
        assert phrase in skipped[name]["reason"], (kind, skipped[name])
    valid = sorted(p.name.removesuffix(".skeleton") for p in raw.glob("S001*.skeleton"))
    assert group["sample"][:].tolist() == valid and len(valid) == 8  # nothing valid lost
    assert group.attrs["stats"]["skipped"] == len(expected)
    validate_store(ntu_corpus_store)


def test_ntu_corpus_strict_build_stops_and_keeps_the_previous_store(ntu_corpus, ntu_corpus_store):
    """--strict over the corpus, replacing the store built above: the build stops at the first
    malformed file, naming it with its line, and the previous store is left exactly as it was."""
    raw, expected = ntu_corpus
    before = content_digest(ntu_corpus_store)
    code, out = run_cli(*BUILD, "--dataset", "ntu60", "--raw", raw, "--out", ntu_corpus_store,
                        "--strict", "--force")  # fmt: skip
    assert code != 0 and "--strict stops at the first malformed file" in out, out
    named = [name for name in expected if name in out]
    assert len(named) == 1, out
    _, line, phrase = expected[named[0]]
    assert (f"{named[0]}:{line}:" if line else f"{named[0]}:") in out and phrase in out
    assert content_digest(ntu_corpus_store) == before
    validate_store(ntu_corpus_store)  # still a whole, valid store


def test_kinetics_corpus_build_skips_and_records_every_malformed_clip(tmp_path: Path) -> None:
    cases = {kind.replace(" ", "_").replace("(", "").replace(")", ""): (kind, *make())
             for kind, make in KINETICS_MALFORMED.items()}  # fmt: skip
    root = kinetics_root(tmp_path / "raw", {name: case[1] for name, case in cases.items()})
    store = tmp_path / "k.zarr"
    code, out = run_cli(*BUILD, "--dataset", "kinetics", "--raw", root, "--out", store)
    assert code == 0, out
    group = zarr.open_group(str(store), mode="r")
    skipped = {s["file"]: s for s in group.attrs["skipped"]}
    assert set(skipped) == {f"kinetics_train/{name}.json" for name in cases}
    for name, (kind, _, line, phrase) in cases.items():
        entry = skipped[f"kinetics_train/{name}.json"]
        assert entry["line"] == line and phrase in entry["reason"], (kind, entry)
    assert sorted(group["sample"][:].tolist()) == [f"good{k}" for k in range(6)]
    validate_store(store)
    code, out = run_cli(*BUILD, "--dataset", "kinetics", "--raw", root, "--out", store, "--strict",
                        "--force")  # fmt: skip
    assert code != 0 and "--strict" in out and "kinetics_train/" in out
    assert sorted(zarr.open_group(str(store), mode="r")["sample"][:].tolist()) == [
        f"good{k}" for k in range(6)
    ]
    validate_store(store)
