"""The `.partial` directory of a build, and the one owner of its resume state: whether the
staged work belongs to this request (`prepare`), whether the parse phase is done
(`is_compacted`), which parse and DTW chunks are staged (`staged_parse`, `staged_dtw`); its
lock, its atomic swap in as the store (`swap_in`), and the kill hook of the resume tests.

Layout inside `<store>.partial/` (the future store root):
- `.skelprep-build.json`: the content keys, source fingerprint and skelprep code fingerprint
  the staged work belongs to, and the phase reached (`parse` or `compacted`) with the parse
  summaries;
- `.lock`: held (flock) by the running build, so two builds never write one partial store;
- `staging/parse/chunk_00012.npz`: the parsed samples of raw chunk 12 (all but their joints),
  `staging/parse/chunk_00012.joints.zarr`: their joints, encoded as the store's (written
  first: the `.npz` marks the chunk complete);
- `staging/dtw/chunk_00003.npz`: per-sample DTW distance matrices of DTW chunk 3.
Every staged file is written under a temporary name and renamed, so it is complete or absent.
A chunk counts as staged when its file is there (a DTW chunk: for the same sample indices).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np

from skelprep.errors import SkelprepError

STATE_FILE = ".skelprep-build.json"
SKIPPED_KEY = "skipped"  # the member of a staged parse chunk listing its skipped files
PARSING, COMPACTED = "parse", "compacted"  # the phases the state file records
LOCK_FILE = ".lock"
ASIDE_MARK = ".old-"  # the previous store, renamed aside while the new one takes its name
KILL_ENV = "SKELPREP_TEST_KILL_AT"


def chunk_path(partial: Path, kind: str, chunk: int) -> Path:
    """Staged file of chunk `chunk` of `kind` ("parse" or "dtw")."""
    return Path(partial) / "staging" / kind / f"chunk_{chunk:05d}.npz"


def save_npz(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an .npz atomically: to a temporary name beside it, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    temp.write_bytes(buffer.getvalue())
    os.replace(temp, target)


def drop_temporaries(partial: Path) -> None:
    """Remove half-written temporaries (files or staged arrays) left by a killed build."""
    for temp in (Path(partial) / "staging").glob("*/*.tmp-*"):
        shutil.rmtree(temp) if temp.is_dir() else temp.unlink(missing_ok=True)


def read_state(partial: Path) -> dict | None:
    """The state of a staged build, or None when there is none (or it is unreadable)."""
    try:
        return json.loads((Path(partial) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_state(partial: Path, state: dict) -> None:
    """Replace the state file atomically."""
    target = Path(partial) / STATE_FILE
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    os.replace(temp, target)


def prepare(partial: Path, content: dict, fingerprint: str, code: str) -> dict:
    """The state of `partial`: kept when it belongs to this request (same content keys, source
    fingerprint and code fingerprint: work staged by other skelprep code is not mixed in),
    else everything staged is deleted and the state starts afresh."""
    state = read_state(partial)
    owner = {"content": content, "fingerprint": fingerprint, "code": code}
    if state is None or any(state.get(key) != value for key, value in owner.items()):
        for child in Path(partial).iterdir():
            if child.name != LOCK_FILE:
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        state = {**owner, "phase": PARSING}
        write_state(partial, state)
    drop_temporaries(partial)
    if is_compacted(state):  # a kill may have come before `mark_compacted` dropped them
        drop_parse_staging(partial)
    return state


def is_compacted(state: dict) -> bool:
    """Whether parsing and compaction are done: the per-sample arrays hold every sample."""
    return state["phase"] == COMPACTED


def mark_compacted(partial: Path, state: dict, summaries: list[dict]) -> dict:
    """Record that the arrays are complete, with the parse summaries; then drop the staged
    parse chunks, no longer needed."""
    state = {**state, "phase": COMPACTED, "summaries": summaries}
    write_state(partial, state)
    drop_parse_staging(partial)
    return state


def staged_parse(partial: Path, chunk: int) -> dict | None:
    """{count, skipped} of parse chunk `chunk` when it is staged, else None."""
    path = chunk_path(partial, "parse", chunk)
    if not path.is_file():
        return None
    with np.load(path) as staged:
        return {"count": len(staged["frames"]), "skipped": json.loads(str(staged[SKIPPED_KEY]))}


def staged_dtw(partial: Path, chunk: int, indices: np.ndarray) -> bool:
    """Whether DTW chunk `chunk` is staged for exactly the samples `indices`."""
    path = chunk_path(partial, "dtw", chunk)
    if not path.is_file():
        return False
    with np.load(path) as staged:
        return np.array_equal(staged["indices"], indices)


def load_dtw(partial: Path, chunk: int) -> np.ndarray:
    """The (S, V, V) distances of the staged DTW chunk `chunk`."""
    with np.load(chunk_path(partial, "dtw", chunk)) as staged:
        return staged["distances"]


def drop_parse_staging(partial: Path) -> None:
    """Delete the staged parse chunks once their samples are in the arrays."""
    shutil.rmtree(Path(partial) / "staging" / "parse", ignore_errors=True)


def swap_in(partial: Path, out: Path, lock: BuildLock) -> None:
    """Make the finished `partial` the store `out`: drop the state and lock files, then rename
    it in, replacing a previous store only once the new one has its name (`restore_aside`)."""
    test_kill_hook("finalize", 1)
    (Path(partial) / STATE_FILE).unlink(missing_ok=True)
    lock.path.unlink(missing_ok=True)
    if not out.exists():
        os.rename(partial, out)
        return
    aside = out.with_name(f"{out.name}{ASIDE_MARK}{os.getpid()}")
    os.rename(out, aside)
    os.rename(partial, out)
    shutil.rmtree(aside)


def restore_aside(out: Path) -> None:
    """Undo a swap interrupted between its two renames; drop old stores left aside.

    `swap_in` renames the previous store to `<out>.old-<pid>` just before the new one takes
    its name, so that at no moment is neither a complete old nor a complete new store on
    disk; if a kill fell between the two renames, the previous store is put back here.
    """
    asides = sorted(out.parent.glob(f"{out.name}{ASIDE_MARK}*"))
    if asides and not out.exists():
        os.rename(asides.pop(), out)
    for aside in asides:
        shutil.rmtree(aside, ignore_errors=True)


class BuildLock:
    """An exclusive flock on `<partial>/.lock` (released by the kernel if the process dies)."""

    def __init__(self, partial: Path) -> None:
        self.path = Path(partial) / LOCK_FILE
        self.handle = None

    def __enter__(self) -> BuildLock:
        self.handle = open(self.path, "a")  # noqa: SIM115 (held for the build's lifetime)
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise SkelprepError(
                f"another skelprep build is writing {self.path.parent}; wait for it to finish"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def test_kill_hook(point: str, count: int) -> None:
    """TEST HOOK: SIGKILL this process when SKELPREP_TEST_KILL_AT equals `point:count`.

    Points: `parse:k`, `compact:k`, `dtw:k` (after the k-th task of that phase finished in this
    run), `compacted:1` (arrays written, parse staging not yet deleted), `finalize:1`
    (attrs and metadata written, before the rename). A real SIGKILL, so the kill-and-resume
    tests exercise exactly what a user's `kill -9` or an OOM kill does.
    """
    if os.environ.get(KILL_ENV) == f"{point}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)
