"""Reliability: what a build must refuse: crafted label pickles (through the ST-GCN reader and
`skelprep build`, running nothing), a scheduler that accepts the TCP connection but never
answers, and a store of another schema."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zarr

from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, get_dataset
from tests.skelprep.raw_corpus import (
    BUILD,
    LINES,
    NAME,
    encode,
    run_cli,
)

STGCN = get_dataset("stgcn-npy")

# ---------------------------------------------------------------------------------------------
# Crafted label pickles through the ST-GCN reader and `skelprep build`.


class _Reduce:
    """Pickles as a call of `func(*args)`; unpickling it would run that call."""

    def __init__(self, func: Callable, args: tuple) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple:
        return (self.func, self.args)


def _exploits(marker: Path) -> dict[str, object]:
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": _Reduce(os.system, (f"touch {marker}",)),
        "builtins.exec": _Reduce(exec, (touch,)),
        "builtins.eval": _Reduce(eval, (touch,)),
        "subprocess.call": _Reduce(subprocess.call, (["touch", str(marker)],)),
        "pathlib.Path.touch": _Reduce(Path.touch, (marker,)),
        "object array": np.array([_Reduce(os.system, (f"touch {marker}",))], dtype=object),
    }


EXPLOITS = list(_exploits(Path("/nonexistent")))


def stgcn_raw(root: Path, labels: object, protocol: int = pickle.DEFAULT_PROTOCOL) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    data = np.zeros((2, 3, 8, 25, 2), dtype=np.float32)
    data[:, :, :5] = 0.5
    np.save(root / "train_data.npy", data)
    (root / "train_label.pkl").write_bytes(pickle.dumps(labels, protocol=protocol))
    return root


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("kind", EXPLOITS)
def test_crafted_label_pickle_is_refused_by_the_reader(tmp_path: Path, kind: str, protocol: int):
    marker = tmp_path / "pwned"
    exploit = _exploits(marker)[kind]
    raw = stgcn_raw(tmp_path / "raw", (["x.skeleton", "y.skeleton"], [0, exploit]), protocol)
    with pytest.raises(RawFormatError) as caught:
        STGCN.resolve(raw).discover(raw, ReadOptions())
    assert caught.value.path == str(raw / "train_label.pkl")
    assert "refused or unreadable pickle" in caught.value.reason
    assert "is not allowed" in caught.value.reason
    assert not marker.exists(), "the pickle ran code"


def test_crafted_label_pickle_stops_the_build_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    exploit = _exploits(marker)["os.system"]
    raw = stgcn_raw(tmp_path / "raw", (["x.skeleton", "y.skeleton"], [0, exploit]))
    code, out = run_cli(
        *BUILD, "--dataset", "stgcn-npy", "--raw", raw, "--out", tmp_path / "s.zarr"
    )
    assert code != 0 and "train_label.pkl" in out and "is not allowed" in out, out
    assert not marker.exists() and not (tmp_path / "s.zarr").exists()


def test_plain_label_pickle_still_builds(tmp_path: Path) -> None:
    raw = stgcn_raw(tmp_path / "raw", (["x.skeleton", "y.skeleton"], [0, 1]))
    code, out = run_cli(
        *BUILD, "--dataset", "stgcn-npy", "--raw", raw, "--out", tmp_path / "s.zarr"
    )
    assert code == 0, out
    assert zarr.open_group(str(tmp_path / "s.zarr"), mode="r")["sample"][:].tolist() == ["x", "y"]


# ---------------------------------------------------------------------------------------------
# Refusals: a scheduler that never answers, a store of another schema.


def test_scheduler_that_accepts_but_never_answers_fails_fast(tmp_path: Path) -> None:
    """A port that accepts the TCP connection (the kernel's listen backlog) but never speaks the
    Dask protocol, like a firewall or a wrong service: the build must fail within its connect
    timeout (5 s), not hang. A hang is caught by the subprocess limit below (45 s)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"{NAME}.skeleton").write_bytes(encode(LINES))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        cmd = [sys.executable, "-m", "skelprep.cli", "build", "--dataset", "ntu60", "--quiet",
               "--raw", str(raw), "--out", str(tmp_path / "s.zarr"), "--scheduler", address]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)  # fmt: skip
        try:
            out, _ = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:
            out = None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert out is not None, f"`skelprep build --scheduler {address}` hung for 45 s"
    assert proc.returncode != 0 and f"dask scheduler {address} did not answer" in out, out


def test_build_over_a_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"{NAME}.skeleton").write_bytes(encode(LINES))
    store = tmp_path / "s.zarr"
    store.mkdir()
    meta = {"zarr_format": 3, "node_type": "group", "attributes": {"schema": "skelprep.store/2"}}
    (store / "zarr.json").write_text(json.dumps(meta))
    before = (store / "zarr.json").read_bytes()
    code, out = run_cli(*BUILD, "--dataset", "ntu60", "--raw", raw, "--out", store)
    assert code != 0 and "has schema 'skelprep.store/2'" in out and "--force" in out, out
    assert (store / "zarr.json").read_bytes() == before and sorted(os.listdir(store)) == [
        "zarr.json"
    ]
    for command in ("info", "validate"):
        code, out = run_cli(command, store)
        assert code != 0 and "only 'skelprep.store/1'" in out, out
