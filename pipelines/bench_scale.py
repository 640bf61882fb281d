"""`just bench-scale`: full builds of synthetic NTU sets from the benchmark set to NTU60 size.

Why (issue 19, item 4): `just bench-build` measures a 6,480-file set; a real NTU60 build reads
56,880 files. Goals: the build time grows linearly (the NTU60-size build takes at most 9.5x the
1x build), the peak memory does not grow with the set (at most 1.25x the 1x peak), and the
NTU60-size build takes at most 3 minutes on 2 cores.

Per scale (`--scales`, default 1,2,4,ntu60; the first must be 1, the reference): the synthetic
set `skelprep synth --format ntu --seed 0 --repetitions R`, R = scale x `--base-repetitions`
(default 27: bench_build's default set, 6,480 files, about 1.8 GB of text) rounded, and `ntu60`
= R 237: 56,880 files (about 16 GB), the size of NTU60, 8.78x the 1x files whatever the base.
Sets are cached where bench_build caches them (data/raw/bench-build-rR/, reused when complete).
Every file is read once untimed (warm page cache, as bench_build does); then
`skelprep build --dataset ntu60` into the deleted store data/bench-scale.zarr: the whole CLI,
2 Dask workers by default, FastDTW over every training sample. Measured per build:

- wall s of the command; CPU s: the busy time of the whole machine meanwhile (/proc/stat);
- parse and DTW s: the store's attrs `stats.phase_seconds` (`parse`, `dtw`);
- peak memory: every 0.2 s this process sums the resident set size (RSS) of all its
  descendants, which during a build are exactly the build's processes: the `skelprep build`
  CLI (orchestrator, Dask scheduler and nannies run in it), the multiprocessing fork server it
  starts, the Dask workers forked from that server (children of the fork server, so
  grandchildren of the CLI; build/cluster.py) and multiprocessing's resource tracker. The
  column is the largest such sum. RSS counts pages that a forked worker still shares with the
  fork server in both processes, so the sum overstates the memory in use, alike at every scale;
  a peak shorter than 0.2 s can be missed. Printed below the table: that largest sum split by
  role (CLI; its children, the fork server and resource tracker; the workers);
- store size: disk blocks of the finished store's files;
- read from disk: what the whole machine read from storage during the build (/proc/vmstat
  `pgpgin`): near 0 when the warmed raw files stayed in the page cache.
Ratios of time and peak memory are against the 1x build of the same run.

Disk and cleanup: one set is generated, built and (unless it was there before) deleted before
the next, so the disk holds at most the NTU60-size set, its store and bench_build's cached 1x
set; a set is refused when the free disk would not hold it. A set this run generated is deleted
after its build unless `--keep`; a set that was already there (bench_build's cache, an earlier
`--keep` or `--prepare` run) is left. `--prepare` only generates the sets and keeps them, so that
the builds can run later on a quiet machine. The store is deleted at the end unless `--keep`.

Run it on an otherwise idle machine: the table shows the load average before each build.
Smoke check in under a minute: `python pipelines/bench_scale.py --base-repetitions 1 --scales 1,2`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import threading
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import zarr
from _run import REPO
from bench_build import TAKES_PER_REPETITION, build, loads, raw_files

STORE = Path("data/bench-scale.zarr")
NTU60_REPETITIONS = 237  # 240 takes each: 56,880 files, as many as NTU60 has
BYTES_PER_FILE = 300_000  # about 280 KB of text per synthetic .skeleton file, with margin
SAMPLE_EVERY = 0.2  # seconds between two memory samples
GOAL_TIME, GOAL_MEMORY, GOAL_SECONDS = 9.5, 1.25, 180.0
MIB = 2**20


@dataclass
class Scale:
    label: str
    repetitions: int


@dataclass
class Result:
    scale: Scale
    files: int
    samples: int
    wall: float
    cpu: float
    parse: float
    dtw: float
    peak: int
    processes: int
    split: dict[str, int]
    store: int
    load: float
    disk_read: int


def parse_args() -> argparse.Namespace:
    """Command-line options (see --help)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,2,4,ntu60", help="comma-separated multiples of "
                        "the base set, 1 first; `ntu60` is 56,880 files [%(default)s]")  # fmt: skip
    parser.add_argument("--base-repetitions", type=int, default=27, help="takes per performer "
                        "and class of the 1x set: 240 x R files [%(default)s]")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the raw sets and the store")
    parser.add_argument("--prepare", action="store_true",
                        help="only generate the raw sets (kept) for a later run")  # fmt: skip
    args = parser.parse_args()
    args.scales = [scale(token, args.base_repetitions, parser) for token in args.scales.split(",")]
    if not args.prepare and args.scales[0].repetitions != args.base_repetitions:
        parser.error("the first scale must be 1 (the reference of the ratios)")
    return args


def scale(token: str, base: int, parser: argparse.ArgumentParser) -> Scale:
    """One --scales entry: `ntu60` or a positive multiple of the base set."""
    if token.strip() == "ntu60":
        return Scale("ntu60", NTU60_REPETITIONS)
    try:
        repetitions = round(float(token) * base)
    except ValueError:
        parser.error(f"--scales: {token!r} is neither a number nor ntu60")
    if not 1 <= repetitions <= 999:
        parser.error(f"--scales: {token} x {base} repetitions is outside 1..999")
    return Scale(f"{float(token):g}x", repetitions)


#: Where a descendant of this process sits in a build's tree, by its depth under this process.
ROLES = {1: "CLI", 2: "fork server + resource tracker", 3: "workers"}


class PeakMemory:
    """While open, samples the summed RSS of this process's descendants in a thread; keeps the
    largest sum (`peak`, bytes), its split by role at that moment (`split`: ROLES name -> bytes)
    and the most processes seen at once (`processes`)."""

    def __init__(self) -> None:
        self.peak = self.processes = 0
        self.split: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(SAMPLE_EVERY):
            parent, rss = {}, {}
            for proc in me.children(recursive=True):
                with suppress(psutil.Error):  # ended between the listing and the read
                    rss[proc.pid], parent[proc.pid] = proc.memory_info().rss, proc.ppid()
            split = dict.fromkeys(ROLES.values(), 0)
            for pid, size in rss.items():
                depth, up = 1, parent[pid]
                while up in parent:
                    depth, up = depth + 1, parent[up]
                split[ROLES.get(depth, "workers")] += size
            total = sum(split.values())
            if total > self.peak:
                self.peak, self.split = total, split
            self.processes = max(self.processes, len(rss))


def disk_bytes(root: Path) -> int:
    """Bytes of disk blocks held by the files under `root`."""
    return sum(
        (Path(folder) / name).stat().st_blocks * 512
        for folder, _, names in os.walk(root)
        for name in names
    )


def paged_in() -> int:
    """Bytes the machine has read from storage since boot (/proc/vmstat pgpgin, in KiB)."""
    for line in Path("/proc/vmstat").read_text().splitlines():
        if line.startswith("pgpgin "):
            return int(line.split()[1]) * 1024
    return 0


def raw_dir(repetitions: int) -> Path:
    return Path(f"data/raw/bench-build-r{repetitions}")


def ensure_set(repetitions: int) -> tuple[list[Path], bool]:
    """The set's files (minus the missing list) and whether this call generated it; refuses a
    set that the free disk would not hold."""
    raw = REPO / raw_dir(repetitions)
    existed = len(list(raw.glob("*.skeleton"))) == repetitions * TAKES_PER_REPETITION
    need = repetitions * TAKES_PER_REPETITION * BYTES_PER_FILE
    free = shutil.disk_usage(REPO / "data").free
    if not existed and need > free:
        raise SystemExit(f"{raw_dir(repetitions)} needs about {need / 2**30:.1f} GiB, "
                         f"{free / 2**30:.1f} GiB free")  # fmt: skip
    return raw_files(raw_dir(repetitions), repetitions), not existed


def measure(item: Scale, files: list[Path]) -> Result:
    """Warm the page cache, then one `skelprep build` into a deleted store, sampled."""
    for path in files:
        path.read_bytes()
    load, read = os.getloadavg()[0], paged_in()
    with PeakMemory() as memory:
        wall, cpu, _ = build(raw_dir(item.repetitions), store=STORE)
    read = paged_in() - read
    stats = zarr.open_group(str(REPO / STORE), mode="r").attrs["stats"]
    phases = stats["phase_seconds"]
    files = item.repetitions * TAKES_PER_REPETITION
    return Result(item, files, int(stats["samples"]), wall, cpu, phases["parse"], phases["dtw"],
                  memory.peak, memory.processes, memory.split, disk_bytes(REPO / STORE), load, read)  # fmt: skip


def report(results: list[Result]) -> None:
    """The table, ratios against the first (1x) build, and the issue's goals."""
    ref = results[0]
    print("\n| scale | files | samples | wall s | time / 1x | per sample / 1x | parse s | "
          "DTW s | CPU s | peak MiB | peak / 1x | processes | store GiB | read from disk GiB | "
          "load before |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        per_sample = (r.wall / r.samples) / (ref.wall / ref.samples)
        print(
            f"| {r.scale.label} | {r.files} | {r.samples} | {r.wall:.1f} | "
            f"{r.wall / ref.wall:.2f}x | {per_sample:.2f}x | {r.parse:.1f} | {r.dtw:.1f} | "
            f"{r.cpu:.0f} | {r.peak / MIB:.0f} | {r.peak / ref.peak:.2f}x | {r.processes} | "
            f"{r.store / 2**30:.2f} | {r.disk_read / 2**30:.2f} | {r.load:.2f} |"
        )
    print("\nPeak memory split at its peak, MiB:")
    for r in results:
        print(f"- {r.scale.label}: " + ", ".join(f"{k} {v / MIB:.0f}" for k, v in r.split.items()))
    full = next((r for r in results if r.scale.repetitions == NTU60_REPETITIONS), None)
    if full is None:
        print("\nthe NTU60-size set (scale ntu60) was not built: goals not checked")
        return
    time, memory = full.wall / ref.wall, full.peak / ref.peak
    cores = os.cpu_count()

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print(
        f"\nNTU60 size ({full.files} files, {full.files / ref.files:.2f}x the 1x files):\n"
        f"- time linear, <= {GOAL_TIME}x the 1x build: {verdict(time <= GOAL_TIME)} ({time:.2f}x)\n"
        f"- peak memory <= {GOAL_MEMORY}x the 1x peak: {verdict(memory <= GOAL_MEMORY)} "
        f"({memory:.2f}x)\n"
        f"- <= {GOAL_SECONDS:.0f} s on 2 cores: {verdict(full.wall <= GOAL_SECONDS)} "
        f"({full.wall:.1f} s on {cores} cores)"
    )


def main() -> None:
    args = parse_args()
    generated: list[Path] = []
    results = []
    load_before = os.getloadavg()
    try:
        for item in args.scales:
            print(f"\n== scale {item.label}: --repetitions {item.repetitions}", flush=True)
            files, new = ensure_set(item.repetitions)
            if new:
                generated.append(REPO / raw_dir(item.repetitions))
            if args.prepare:
                continue
            results.append(measure(item, files))
            if new and not args.keep:
                shutil.rmtree(REPO / raw_dir(item.repetitions))
    finally:
        if not args.keep and not args.prepare:
            shutil.rmtree(REPO / STORE, ignore_errors=True)
            for raw in generated:
                shutil.rmtree(raw, ignore_errors=True)
    if results:
        report(results)
        print(f"\nload average 1/5/15 min: before {loads(load_before)}, "
              f"after {loads(os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
