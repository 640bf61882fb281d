"""Runs of decimal digits read eight bytes at a time (SWAR: SIMD within a register), for the
compiled tokenizer (readers.scan).

Why: a Kinect value has 6 to 9 digits after its point; a byte loop takes one hard-to-predict
branch at the end of every run, a word at a time takes one per 8 digits. `digit_run` finds how
many of 8 bytes are digits and converts them with three multiplications (each folds pairs of
neighbouring lanes: digits -> 2-digit -> 4-digit -> 8-digit numbers). On the NTU files this
makes the scan measurably faster with the same tokens and values (figures in docs/results.md,
section Build).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

_U = np.uint64
_ZEROS = _U(0x3030303030303030)  # b"00000000"
_LOW7 = _U(0x7F7F7F7F7F7F7F7F)
_TEN_UP = _U(0x7676767676767676)  # adds 0x76 per byte: the top bit is set from 10 up
_TOP = _U(0x8080808080808080)
_POW10 = np.array([10**k for k in range(9)], dtype=np.int64)


@intrinsic
def _trailing_zeros(typingctx, x):  # noqa: ANN001, ANN202, ARG001 (a Numba intrinsic)
    """Count of trailing zero bits (64 for zero): LLVM's cttz."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202, ARG001
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return x(x), codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _word(buf, i, n):  # noqa: ANN001, ANN202 (compiled)
    """buf[i : i + 8] as a little-endian word; zero bytes past `n`. Unsigned indices: no
    wraparound check, so the eight loads fuse into one."""
    if i + 8 <= n:
        u = _U(i)
        word = _U(0)
        for k in range(8):
            word |= _U(buf[u + _U(k)]) << _U(8 * k)
        return word
    word = _U(0)
    for k in range(n - i):
        word |= _U(buf[i + k]) << _U(8 * k)
    return word


@numba.njit(cache=True, nogil=True, inline="always")
def _leading_digits(word):  # noqa: ANN001, ANN202 (compiled)
    """(how many of the word's first bytes are ASCII digits, their value)."""
    x = word ^ _ZEROS  # a digit byte becomes 0..9
    not_digit = (((x & _LOW7) + _TEN_UP) | x) & _TOP
    count = _trailing_zeros(not_digit) >> _U(3)
    if count == _U(0):
        return 0, 0
    x = x << (_U(64) - (count << _U(3)))  # drop the rest; the digits become the low ones
    x = ((x * _U(10 * 2**8 + 1)) >> _U(8)) & _U(0x00FF00FF00FF00FF)
    x = ((x * _U(100 * 2**16 + 1)) >> _U(16)) & _U(0x0000FFFF0000FFFF)
    x = (x * _U(10000 * 2**32 + 1)) >> _U(32)
    return np.int64(count), np.int64(x)


@numba.njit(cache=True, nogil=True, inline="always")
def digit_run(buf, i, n, mantissa):  # noqa: ANN001, ANN202 (compiled)
    """Read the digits from buf[i] on: (index after them, how many, `mantissa` extended by
    them). The mantissa wraps past 18 digits; the caller flags such tokens."""
    count = 0
    while True:
        run, value = _leading_digits(_word(buf, i, n))
        mantissa = mantissa * _POW10[run] + value
        count += run
        i += run
        if run < 8:
            return i, count, mantissa
