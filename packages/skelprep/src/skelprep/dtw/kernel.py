"""Numba kernels of FastDTW and exact DTW over per-row column windows.

One code path serves both: exact DTW is the finest level with the full window. FastDTW
follows Salvador & Chan as the `fastdtw` package (0.3.4) implements it, step for step, so
that the two give the same distance:

- coarsen by averaging consecutive pairs, dropping an odd last point, while both series
  have at least `radius + 2` points; run full DTW at the coarsest level;
- project the path one level finer: every coarse path cell widened to a
  (2 * radius + 1)^2 box, each coarse cell covering 2 x 2 fine cells;
- constrained DTW on that window, with the package's tie-break (up, then left, then
  diagonal: the first strict minimum of the three sums wins), since the path chosen at a
  coarse level shapes the window of the next.

The window is stored as one [lo, hi) column range per row (the union of the boxes along a
monotone path is contiguous in each row), so a cell is found by arithmetic, not in a set.
A sample's joint series are coarsened once into pyramids (`build_pyramid`) that all its
joint pairs share; the other buffers (`make_workspace`) are allocated once per thread
chunk. The hot loops touch only float64/int arrays and release the GIL.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

MANHATTAN = 0
EUCLIDEAN = 1
_MAX_LEVELS = 64
_INF = np.inf
# Series of fewer channels are zero-padded to this many: a zero channel adds exactly 0.0 to
# either metric, so distances are unchanged and the point distance can be unrolled.
_PADDED = 3


@njit(nogil=True, cache=True)
def window_capacity(tmax: int, radius: int, exact: bool) -> int:
    """Upper bound on window cells at any level for series of at most `tmax` points.

    A level's window is at most 4 fine cells per coarse cell of (path length <= n/2 + m/2)
    boxes of (2r+1)^2; the coarsest full level has at most (r+1) * max(n, m) cells.
    """
    full = tmax * tmax
    if exact:
        return full
    band = 4 * (2 * radius + 1) ** 2 * (tmax + 2) + (radius + 1) * tmax
    return min(full, band)


@njit(nogil=True, cache=True)
def make_workspace(tmax: int, channels: int, radius: int, exact: bool):
    """Allocate every buffer one pair computation needs (reused across pairs)."""
    cap = window_capacity(tmax, radius, exact)
    return (
        np.empty(tmax + 2, np.int64),  # lo: first column of each row's window
        np.empty(tmax + 2, np.int64),  # hi: one past the last column
        np.empty(tmax + 3, np.int64),  # start: index of each row's first cell
        np.empty(tmax + 2),  # accumulated cost of the previous row (dense, shifted by 1)
        np.empty(tmax + 2),  # accumulated cost of the current row
        np.empty(cap, np.int8),  # step into each cell: 0 up, 1 left, 2 diagonal
        np.empty(2 * tmax + 4, np.int64),  # path rows
        np.empty(2 * tmax + 4, np.int64),  # path columns
    )


@njit(nogil=True, cache=True)
def make_pyramids(count: int, tmax: int, channels: int):
    """Buffers for `count` series pyramids of at most `tmax` points, levels back to back."""
    return (
        np.zeros((count, 2 * tmax + 4, max(channels, _PADDED))),  # level after level, per series
        np.empty((count, _MAX_LEVELS + 1), np.int64),  # offset of each level
        np.empty((count, _MAX_LEVELS + 1), np.int64),  # length of each level
        np.empty(count, np.int64),  # index of the coarsest level
    )


@njit(nogil=True, cache=True, inline="always")
def _point_distance(xs, i, ys, j, metric) -> float:
    if xs.shape[1] == _PADDED:  # unrolled: the hot case (skeleton series of 1 to 3 channels)
        a = xs[i, 0] - ys[j, 0]
        b = xs[i, 1] - ys[j, 1]
        c = xs[i, 2] - ys[j, 2]
        if metric == MANHATTAN:
            return abs(a) + abs(b) + abs(c)
        return np.sqrt(a * a + b * b + c * c)
    s = 0.0
    if metric == MANHATTAN:
        for c in range(xs.shape[1]):
            s += abs(xs[i, c] - ys[j, c])
        return s
    for c in range(xs.shape[1]):
        d = xs[i, c] - ys[j, c]
        s += d * d
    return np.sqrt(s)


@njit(nogil=True, cache=True)
def build_pyramid(src, n, radius, exact, k, pyr) -> None:
    """Store `src[:n]` as series k of `pyr`, halved while it keeps >= radius + 2 points.

    Each level is the mean of consecutive pairs of the one before, an odd last point
    dropped. Padding channels beyond src's stay zero (`make_pyramids` zeroes them). A pair uses the levels down to the coarsest one both of its series reach,
    which is the package's rule (halve while both have >= radius + 2 points).
    """
    buf, off, length, top = pyr
    for t in range(n):
        for c in range(src.shape[1]):
            buf[k, t, c] = src[t, c]
    off[k, 0] = 0
    length[k, 0] = n
    level = 0
    while not exact and length[k, level] >= radius + 2:
        first = off[k, level]
        dst = first + length[k, level]
        half = length[k, level] // 2
        for t in range(half):
            for c in range(src.shape[1]):
                buf[k, dst + t, c] = (buf[k, first + 2 * t, c] + buf[k, first + 2 * t + 1, c]) / 2
        level += 1
        off[k, level] = dst
        length[k, level] = half
    top[k] = level


@njit(nogil=True, cache=True)
def _project_window(pi, pj, plen, radius, n, m, lo, hi) -> None:
    """Per-row [lo, hi) of the finer level from the coarse path widened by `radius`."""
    coarse_rows = n // 2 + 1
    for q in range(coarse_rows):
        lo[q] = 1 << 40
        hi[q] = -(1 << 40)
    for p in range(plen):
        i = pi[p]
        j = pj[p]
        for q in range(max(0, i - radius), min(coarse_rows, i + radius + 1)):
            lo[q] = min(lo[q], j - radius)
            hi[q] = max(hi[q], j + radius + 1)
    # fine rows from the last one down, so coarse values are read before being overwritten
    for t in range(n - 1, -1, -1):
        q = t // 2
        a = min(m, max(0, 2 * lo[q]))
        b = min(m, 2 * hi[q])
        lo[t] = a
        hi[t] = max(a, b)


@njit(nogil=True, cache=True)
def _fill(xs, xo, n, ys, yo, m, lo, hi, start, prev, cur, step, metric, weight) -> float:
    """Accumulated cost over the window, row by row, with the package's tie-break.

    `prev` and `cur` are dense rows shifted by one (index j + 1 holds column j, index 0 is
    column -1); cells outside the window read as +inf through sentinels written before use.
    Only the step into each cell is kept, for the backtrack. Returns D(n-1, m-1).
    """
    prev[0] = 0.0  # the virtual origin D(-1, -1)
    for t in range(1, m + 1):
        prev[t] = _INF
    pos = 0
    pb = m
    for i in range(n):
        start[i] = pos
        a = lo[i]
        b = hi[i]
        for t in range(pb + 1, b + 1):
            prev[t] = _INF
        left = _INF
        cur[a] = _INF
        for j in range(a, b):
            dt = _point_distance(xs, xo + i, ys, yo + j, metric)
            best = prev[j + 1] + dt
            s = 0
            c = left + dt
            if c < best:
                best = c
                s = 1
            c = weight * prev[j] + dt
            if c < best:
                best = c
                s = 2
            cur[j + 1] = best
            step[pos] = s
            left = best
            pos += 1
        pb = b
        prev, cur = cur, prev
    start[n] = pos
    return prev[m] if pb == m and lo[n - 1] < m else _INF


@njit(nogil=True, cache=True)
def _backtrack(n, m, lo, start, step, pi, pj) -> int:
    """Write the warping path (end to start) into pi/pj and return its length."""
    i = n - 1
    j = m - 1
    plen = 0
    while i >= 0 and j >= 0:
        pi[plen] = i
        pj[plen] = j
        plen += 1
        s = step[start[i] + j - lo[i]]
        if s != 1:
            i -= 1
        if s != 0:
            j -= 1
    return plen


@njit(nogil=True, cache=True)
def pair_distance(pyr, a, b, radius, metric, weight, ws) -> float:
    """DTW distance of pyramids a and b of `pyr` (FastDTW, or exact with one level each)."""
    buf, off, length, top = pyr
    lo, hi, start, prev, cur, step, pi, pj = ws
    xs = buf[a]
    ys = buf[b]
    level = min(top[a], top[b])
    plen = 0
    for k in range(level, -1, -1):
        n = length[a, k]
        m = length[b, k]
        if k == level:
            for t in range(n):
                lo[t] = 0
                hi[t] = m
        else:
            _project_window(pi, pj, plen, radius, n, m, lo, hi)
        total = _fill(
            xs, off[a, k], n, ys, off[b, k], m, lo, hi, start, prev, cur, step, metric, weight
        )
        if k > 0:
            plen = _backtrack(n, m, lo, start, step, pi, pj)
    return total


@njit(nogil=True, cache=True)
def one_pair(x, y, radius, metric, weight, exact) -> float:
    """DTW distance of the whole series x and y (one compiled call for the public API)."""
    n = x.shape[0]
    m = y.shape[0]
    tmax = max(n, m)
    ws = make_workspace(tmax, x.shape[1], radius, exact)
    pyr = make_pyramids(2, tmax, x.shape[1])
    build_pyramid(x, n, radius, exact, 0, pyr)
    build_pyramid(y, m, radius, exact, 1, pyr)
    return pair_distance(pyr, 0, 1, radius, metric, weight, ws)


@njit(nogil=True, cache=True)
def _run_chunk(series, lengths, pairs, first, last, radius, metric, weight, exact, out) -> None:
    """Tasks first..last (sample-major); each sample's joint pyramids are built once."""
    joints, tmax, channels = series.shape[1], series.shape[2], series.shape[3]
    ws = make_workspace(tmax, channels, radius, exact)
    pyr = make_pyramids(joints, tmax, channels)
    npairs = pairs.shape[0]
    built = -1
    for task in range(first, last):
        s = task // npairs
        if s != built:
            for v in range(joints):
                build_pyramid(series[s, v], lengths[s], radius, exact, v, pyr)
            built = s
        a = pairs[task % npairs, 0]
        b = pairs[task % npairs, 1]
        d = pair_distance(pyr, a, b, radius, metric, weight, ws)
        out[s, a, b] = d
        out[s, b, a] = d


@njit(nogil=True, cache=True, parallel=True)
def all_pairs_parallel(series, lengths, pairs, chunks, radius, metric, weight, exact, out):
    """Every listed joint pair of every sample, chunks of tasks spread over Numba threads."""
    tasks = series.shape[0] * pairs.shape[0]
    for c in prange(chunks):
        first = c * tasks // chunks
        last = (c + 1) * tasks // chunks
        _run_chunk(series, lengths, pairs, first, last, radius, metric, weight, exact, out)


@njit(nogil=True, cache=True)
def all_pairs_serial(series, lengths, pairs, radius, metric, weight, exact, out):
    """Same as `all_pairs_parallel` on the calling thread (for callers that bring threads)."""
    tasks = series.shape[0] * pairs.shape[0]
    _run_chunk(series, lengths, pairs, 0, tasks, radius, metric, weight, exact, out)
