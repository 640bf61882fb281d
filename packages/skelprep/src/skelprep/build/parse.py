"""The parse and compact phases of a build (phases.PHASES): parse raw chunks as Dask tasks
into staging, then compact the staged chunks into the store's per-sample arrays in
sample-name order (one Dask task per store chunk).

Chunks already staged by an interrupted run are not submitted again. Under `--strict` the
first malformed file stops the build after the chunks already staged are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import zarr
from dask.distributed import as_completed
from tqdm import tqdm

from skelprep.align import coordinate_dims
from skelprep.build.staging import chunk_path, staged_parse, test_kill_hook
from skelprep.build.tasks import link_whole_chunks, load_parsed, parse_chunk, place_chunk
from skelprep.errors import SkelprepError
from skelprep.readers.base import SampleRef
from skelprep.store import chunk_sources, create_sample_arrays

if TYPE_CHECKING:
    from skelprep.build.phases import Build


class StrictStop(SkelprepError):
    """--strict and a malformed raw file: the build stops, staged chunks are kept."""


def _strict_check(summary: dict, strict: bool) -> dict:
    """`summary` (a parse chunk's {count, skipped}); StrictStop at a skipped file under --strict."""
    if strict and summary["skipped"]:
        first = summary["skipped"][0]
        where = first["file"] + (f":{first['line']}" if first["line"] is not None else "")
        raise StrictStop(
            f"{where}: {first['reason']}\n--strict stops at the first malformed file; the chunks "
            "already parsed are kept and a rerun resumes from them (without --strict the file "
            "is skipped and listed in the store's attrs `skipped`)"
        )
    return summary


def parse_all(build: Build, chunks: list[list[SampleRef]]) -> list[dict]:
    """Stage every chunk of refs (resuming staged ones); returns the per-chunk
    {count, skipped}."""
    partial, strict = build.partial, build.params.strict
    summaries: dict[int, dict] = {}
    todo = []
    for k in range(len(chunks)):
        staged = staged_parse(partial, k)
        if staged is None:
            todo.append(k)
        else:
            summaries[k] = _strict_check(staged, strict)
    done_refs = sum(len(chunks[k]) for k in summaries)
    total = sum(map(len, chunks))
    bar = tqdm(
        total=total, initial=done_refs, unit="sample", desc="parse", disable=not build.progress
    )
    futures = {
        build.client.submit(
            parse_chunk,
            build.spec.name,
            build.raw,
            build.options,
            chunks[k],
            chunk_path(partial, "parse", k),
            build.params.chunk_size,
            key=f"skelprep-parse-{k}-{partial.name}",
            pure=False,
        ): k
        for k in todo
    }
    try:
        for staged, future in enumerate(as_completed(futures), start=1):
            k = futures[future]
            summaries[k] = future.result()
            bar.update(len(chunks[k]))
            test_kill_hook("parse", staged)
            _strict_check(summaries[k], strict)
    finally:
        for future in futures:
            future.cancel()
        bar.close()
    return [summaries[k] for k in range(len(chunks))]


def compact(build: Build, summaries: list[dict]) -> int:
    """Write the staged chunks into the per-sample arrays of the partial store, in chunk order
    (= sample-name order); returns N. Safe to repeat: the arrays are recreated.

    The small per-sample arrays are concatenated here; each store chunk of `joints` is a hard
    link to its staged chunk where the rows line up (`tasks.link_whole_chunks`), else
    one Dask task decodes and rewrites it (`place_chunk`).
    """
    partial, spec, chunk_size = build.partial, build.spec, build.params.chunk_size
    options = build.options
    group = zarr.open_group(str(partial), mode="a", use_consolidated=False)
    counts = [s["count"] for s in summaries]
    num = sum(counts)
    shape = (len(spec.channels), options.max_frames, spec.layout.num_joints, options.max_bodies)
    create_sample_arrays(
        group, num, shape, spec.meta_fields, chunk_size, coordinate_dims(spec.channels)
    )
    small: dict[str, list] = {}
    for k in range(len(summaries)):
        for key, values in load_parsed(chunk_path(partial, "parse", k)).items():
            small.setdefault(key, []).append(values)
    for key, parts in small.items():
        values = np.concatenate(parts)
        if len(values) != num:
            raise SkelprepError(f"{partial}: staged {key} holds {len(values)} rows, expected {num}")
        group[key][:] = values
    plan = chunk_sources(counts, chunk_size)
    left = link_whole_chunks(partial, plan)
    futures = [
        build.client.submit(place_chunk, partial, plan[c], c * chunk_size, pure=False) for c in left
    ]
    linked = num - sum(stop - start for c in left for _, start, stop in plan[c])
    with tqdm(
        total=num, initial=linked, unit="sample", desc="compact", disable=not build.progress
    ) as bar:
        for future in as_completed(futures):
            bar.update(future.result())
    return num
