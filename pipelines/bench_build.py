"""`just bench-build`: raw NTU `.skeleton` files -> store, against a line-by-line reader.

Why: the target is that `skelprep build` turns raw files into a store >= 5x faster on 2 cores
than the usual way, the official tools' Python loop (NTU `txt2npy.py`, ST-GCN `ntu_gendata.py`).
This measures both on the same files in the same run; on a shared machine only ratios count.

One run, on a synthetic NTU60 set (`skelprep synth --repetitions R`: 240 R takes, about 1 %
without skeletons; default R = 27, 6,480 takes; cached in data/raw/bench-build-rR/), after one
untimed read of every file (warm page cache). A real NTU60 build reads 56,880 files: the larger
the set, the less the one-off start-up (imports, worker processes, about 2 s) weighs;
`--repetitions 9` (2,160 takes) is the issue's minimum set.

1. reference: every file read line by line with `str.split` / `float`, up to 2 bodies in
   file order, padded to 300 frames, one (N, 3, 300, 25, 2) float32 `np.save`; one process;
2. our reader (`spec.read`: parse, denoise, align, pad) in this process, same array and save:
   the single-core ratio, without Dask;
3. `skelprep build --dtw-samples-per-class 1` into a deleted store: the whole CLI (start-up,
   Dask cluster, parse, compaction, Zarr write) with DTW on only 10 samples per split: like
   for like;
4. `skelprep build` into a deleted store: the same with DTW over every training sample;
5. the same command again: the reuse path.
Column "CPU s": this process's CPU time for rows 1-2; for the builds, the busy CPU time of the
whole machine while the command ran (run the benchmark on an otherwise idle machine).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import zarr
from _run import BIN, REPO, step

from skelprep.build.params import BuildParams
from skelprep.readers import get_dataset
from skelprep.readers.base import SampleRef

STORE = Path("data/bench-build.zarr")
SYNTH = ("--format", "ntu", "--seed", "0")  # 10 classes x 8 subjects x 3 cameras x R takes
TAKES_PER_REPETITION = 240
MIN_TAKES = 2000
MAX_FRAMES, MAX_BODIES, JOINTS = 300, 2, 25
MISSING = "NTU_RGBD_samples_with_missing_skeletons.txt"


def parse_args() -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=27, help="takes per performer "
                        "and class: 240 x R files [%(default)s]")  # fmt: skip
    args = parser.parse_args()
    if args.repetitions * TAKES_PER_REPETITION < MIN_TAKES:
        parser.error(f"--repetitions must give at least {MIN_TAKES} takes (R >= 9)")
    return args


def raw_files(raw: Path, repetitions: int) -> list[Path]:
    """The raw set's .skeleton files minus the official missing list (synthesized once)."""
    raw = REPO / raw
    if len(list(raw.glob("*.skeleton"))) != repetitions * TAKES_PER_REPETITION:
        temp = raw.with_name(raw.name + ".tmp")
        shutil.rmtree(temp, ignore_errors=True)
        argv = ("skelprep", "synth", *SYNTH, "--repetitions", str(repetitions), "--out", str(temp))
        step("synthesize the raw set", *argv)
        shutil.rmtree(raw, ignore_errors=True)
        temp.rename(raw)
    missing = set((raw / MISSING).read_text().split())
    return sorted(p for p in raw.glob("*.skeleton") if p.stem not in missing)


def read_skeleton(path: Path) -> np.ndarray:
    """Reference reader: (3, 300, 25, 2) xyz of one .skeleton file, read line by line."""
    data = np.zeros((MAX_BODIES, MAX_FRAMES, JOINTS, 3), dtype=np.float32)
    with open(path) as lines:
        for frame in range(int(next(lines))):
            for body in range(int(next(lines))):
                next(lines)  # body info: bodyID clipedEdges ... trackingState
                joints = [next(lines) for _ in range(int(next(lines)))]
                if frame < MAX_FRAMES and body < MAX_BODIES:
                    xyz = [line.split()[:3] for line in joints]
                    data[body, frame] = [[float(x), float(y), float(z)] for x, y, z in xyz]
    return data.transpose(3, 1, 2, 0)


def read_all(read: Callable[[Path], np.ndarray], files: list[Path]) -> tuple[float, float]:
    """(wall s, CPU s) to read `files` into one (N, 3, 300, 25, 2) array and np.save it."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = np.zeros((len(files), 3, MAX_FRAMES, JOINTS, MAX_BODIES), dtype=np.float32)
    for i, path in enumerate(files):
        out[i] = read(path)
    with tempfile.TemporaryDirectory(dir=REPO / "data") as temp:
        np.save(Path(temp) / "data.npy", out)
    return time.perf_counter() - wall, time.process_time() - cpu


def ours_in_process() -> Callable[[Path], np.ndarray]:
    """skelprep's NTU reader with the build's default options, one call per file."""
    options = BuildParams(dataset="ntu60").read_options()
    spec = get_dataset("ntu60")

    def read(path: Path) -> np.ndarray:
        return spec.read(SampleRef(path.stem, path), options).joints

    return read


def machine_cpu() -> float:
    """Busy CPU seconds of the whole machine so far (/proc/stat): the build's workers are forked
    by a fork server, not waited for by this process, so its children's rusage misses them."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def build(
    raw: Path, *extra: str, fresh: bool = True, store: Path = STORE
) -> tuple[float, float, str]:
    """Run `skelprep build` + extra into `store`, as a user would; (wall s, machine CPU s, output).

    `fresh` deletes the store first: `--force` with unchanged parameters reuses the store.
    """
    if fresh:
        shutil.rmtree(REPO / store, ignore_errors=True)
    argv = ["skelprep", "build", "--dataset", "ntu60", "--raw", str(raw), "--out", str(store)]
    argv += extra
    print(f"$ {' '.join(argv)}", flush=True)
    wall, cpu = time.perf_counter(), machine_cpu()
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=REPO, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - wall, machine_cpu() - cpu
    if proc.returncode != 0:
        sys.exit(f"skelprep build failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    bars = re.findall(r"(parse|dtw):\s+100%.*?\[([\d:]+)<", proc.stderr.replace("\r", "\n"))
    shown = ", ".join(f"{name} {elapsed}" for name, elapsed in dict(bars).items())
    print(proc.stdout.rstrip() + (f"\n(progress bars, whole seconds: {shown})" if shown else ""))
    return wall, cpu, proc.stdout


def loads(values: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in values)


def main() -> None:
    args = parse_args()
    raw = Path(f"data/raw/bench-build-r{args.repetitions}")
    load_before = os.getloadavg()
    files = raw_files(raw, args.repetitions)
    n = len(files)
    for path in files:  # warm the page cache for every side alike
        path.read_bytes()
    workers = min(os.cpu_count() or 1, 8)  # skelprep build's default --workers
    print(f"\n== reference: line-by-line reader on {n} files", flush=True)
    reference = read_all(read_skeleton, files)
    print("== skelprep reader in this process", flush=True)
    ours = ours_in_process()
    ours(files[0])  # load the Numba-compiled scanner once, outside the timing
    in_process = read_all(ours, files)
    print("\n== skelprep build, DTW on 1 training sample per class and split", flush=True)
    cheap = build(raw, "--dtw-samples-per-class", "1")
    built = int(zarr.open_group(str(REPO / STORE), mode="r").attrs["stats"]["samples"])
    print("\n== skelprep build, DTW over every training sample", flush=True)
    full = build(raw)
    print("\n== skelprep build again: reuse", flush=True)
    reuse, reuse_cpu, out = build(raw, fresh=False)
    if "reusing" not in out:
        sys.exit("the second build did not reuse the store")
    load_after = os.getloadavg()

    rows = [
        ("reference: line-by-line `split`/`float`, pad, np.save (1 process)", n, *reference),
        (
            "skelprep reader in-process: parse+denoise+align, pad, np.save (1 process)",
            n,
            *in_process,
        ),
        (
            f"`skelprep build --dtw-samples-per-class 1` (no store): whole CLI, {workers} Dask workers "
            "(start-up, parse+denoise+align, Zarr write; DTW on 1 sample per class and split)",
            built,
            *cheap[:2],
        ),
        (
            "`skelprep build` (no store): the same, FastDTW over every training sample",
            built,
            *full[:2],
        ),
    ]
    base = rows[0][1] / rows[0][2]
    print("\n| what | samples | seconds | samples/s | ratio | CPU s |")
    print("|---|---:|---:|---:|---:|---:|")
    for what, count, seconds, cpu in rows:
        rate = count / seconds
        print(f"| {what} | {count} | {seconds:.2f} | {rate:.0f} | {rate / base:.2f}x | {cpu:.1f} |")
    print(
        f"| reused build (the same command again) | {built} | {reuse:.2f} | - | - | "
        f"{reuse_cpu:.1f} |"
    )
    ratio = rows[2][1] / rows[2][2] / base
    print(
        f"\n{n} files (--repetitions {args.repetitions}); goal >= 5x (row 3 vs the reference): "
        f"{'met' if ratio >= 5 else 'NOT met'}, measured {ratio:.2f}x; reuse {reuse:.2f} s "
        "(goal < 2 s)"
    )
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "")
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores ({model}); "
        f"Python {platform.python_version()}; load average 1/5/15 min: before "
        f"{loads(load_before)}, after {loads(load_after)}"
    )


if __name__ == "__main__":
    main()
