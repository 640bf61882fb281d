"""Forward+backward step time and peak memory of every variant on the same batch, vs st-gcn.

Each configuration runs in its own fresh Python process (so the peak resident memory of one
does not hide another's): it builds the model on the NTU skeleton, draws the same seeded batch,
runs warm-up steps, then times `repeats` training steps (forward, cross-entropy, backward)
and reports the median; the bf16 rows run the forward under `torch.autocast` (what
`stgnode train --amp bf16` does). Peak memory: on CPU the growth of the process's peak RSS over its
RSS before the first step (torch allocations are invisible to tracemalloc); on CUDA
`torch.cuda.max_memory_allocated`. Rows: the four variants at their defaults, stg-node with
`odeint_adjoint`, stg-node at other rk4 step sizes, stg-node and st-gcn under bf16 autocast, and
stg-node with one step of other solvers (`--solvers`) under bf16 autocast.

    python pipelines/bench_model.py [--device cuda] [--batch 4] [--window 64] [--width full]
                                    [--threads N] [--solvers euler,midpoint]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch
from model_table import ntu_model

from stgnode.epoch import AMP_DTYPES
from stgnode.models import MODELS

NARROW = [16, 16, 16, 16, 32, 32, 32, 64, 64, 64]


def _rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def measure(spec: dict[str, Any]) -> dict[str, float]:
    """Time `spec["repeats"]` training steps of one configuration; return seconds and MiB."""
    torch.manual_seed(0)
    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    device = torch.device(spec["device"])
    model = ntu_model(
        spec["name"], window=spec["window"], bodies=2, classes=60, **spec["overrides"]
    ).to(device)
    x = torch.randn(spec["batch"], 3, spec["window"], 25, 2, device=device)
    y = torch.randint(0, 60, (spec["batch"],), device=device)

    amp = AMP_DTYPES[spec["amp"]]  # the dtype `stgnode train --amp` autocasts to

    def step() -> None:
        model.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            logits = model(x)
        torch.nn.functional.cross_entropy(logits.float(), y).backward()
        if device.type == "cuda":
            torch.cuda.synchronize()

    base = _rss_mib()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(spec["warmup"]):
        step()
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    return {"seconds": statistics.median(times), "peak_mib": peak}


def rows(step_sizes: list[float], solvers: list[str]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(label, variant, overrides, autocast) of every configuration in the table."""
    table = [(name, name, {}, "none") for name in MODELS]
    table.append(("stg-node, adjoint", "stg-node", {"adjoint": True}, "none"))
    for size in step_sizes:
        table.append((f"stg-node, rk4 step {size:g}", "stg-node", {"ode_step_size": size}, "none"))
    table += [(f"{name}, bf16 autocast", name, {}, "bf16") for name in ("stg-node", "st-gcn")]
    for solver in solvers:
        label = f"stg-node, one {solver} step, bf16 autocast"
        table.append((label, "stg-node", {"ode_method": solver}, "bf16"))
    return table


def main() -> None:
    """Run every configuration in a subprocess and print the markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--width", choices=["full", "narrow"], default="full")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--step-sizes", default="0.5,0.25", help="extra stg-node rk4 step sizes")
    parser.add_argument("--solvers", default="", help="other one-step stg-node solvers (bf16)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(json.loads(args.worker))))
        return
    base = {
        "device": args.device,
        "batch": args.batch,
        "window": args.window,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "threads": args.threads,
    }
    width = {} if args.width == "full" else {"channels": NARROW}
    sizes = [float(s) for s in args.step_sizes.split(",") if s]
    solvers = [s for s in args.solvers.split(",") if s]
    threads = args.threads or torch.get_num_threads()
    print(
        f"device {args.device}, batch {args.batch} x (3, {args.window}, 25, 2), "
        f"{args.width} width, median of {args.repeats} steps after {args.warmup} warm-up, "
        f"torch {torch.__version__}, {threads} threads\n"
    )
    print("| configuration | step (s) | ratio to st-gcn | peak memory (MiB) | ratio to st-gcn |")
    print("|---|---:|---:|---:|---:|")
    results = {}
    for label, name, overrides, amp in rows(sizes, solvers):
        spec = {**base, "name": name, "overrides": {**width, **overrides}, "amp": amp}
        out = subprocess.run(
            [sys.executable, __file__, "--worker", json.dumps(spec)],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            sys.exit(f"{label} failed:\n{out.stderr}")
        results[label] = json.loads(out.stdout.strip().splitlines()[-1])
    ref = results["st-gcn"]
    for label, r in results.items():
        print(
            f"| {label} | {r['seconds']:.3f} | {r['seconds'] / ref['seconds']:.2f} | "
            f"{r['peak_mib']:.0f} | {r['peak_mib'] / ref['peak_mib']:.2f} |"
        )


if __name__ == "__main__":
    main()
