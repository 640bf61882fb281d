"""A compiled (Numba) tokenizer for whitespace-separated numeric text files (NTU, MSR Action3D).

`scan_numbers` reads a whole file's bytes in one pass and returns, per line, where its tokens
start and how many there are, and per token its value and whether it is a plain integer. Decimal
tokens are converted exactly (correctly rounded, like Python's `float`) by the classic fast path:
an integer mantissa below 2**53 multiplied or divided by an exact power of ten up to 1e22. A token
outside that fast path (too many digits, `nan`, a word, ...) is flagged and converted afterwards
by Python's `float` (`resolve_flagged`), which also names the file and line of a non-number.
This is what makes the readers several times faster than line-by-line Python parsing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from skelprep.errors import RawFormatError

_POW10 = np.array([10.0**k for k in range(23)])
_MAX_EXACT = 2**53
_MAX_DIGITS = 18


@numba.njit(cache=True, nogil=True)
def _is_space(c: int) -> bool:
    return c == 32 or c == 9 or c == 10 or c == 13 or c == 11 or c == 12


@numba.njit(cache=True, nogil=True)
def _parse_token(buf, start, end, pow10):  # noqa: ANN001, ANN202 (compiled)
    """(value, ok, is_int) of buf[start:end] by the exact fast path; ok=False -> use Python."""
    i = start
    negative = False
    if buf[i] == 43 or buf[i] == 45:  # + -
        negative = buf[i] == 45
        i += 1
    mantissa = 0
    digits = 0
    frac = 0
    seen_digit = False
    seen_point = False
    is_int = buf[start] != 43 and buf[start] != 45
    while i < end:
        c = buf[i]
        if 48 <= c <= 57:
            seen_digit = True
            if mantissa > 0 or c != 48:
                digits += 1
                if digits > _MAX_DIGITS:
                    return 0.0, False, False
            mantissa = mantissa * 10 + (c - 48)
            if seen_point:
                frac += 1
        elif c == 46 and not seen_point:  # .
            seen_point = True
            is_int = False
        else:
            break
        i += 1
    if not seen_digit:
        return 0.0, False, False
    exponent = 0
    if i < end:
        if buf[i] != 101 and buf[i] != 69:  # e E
            return 0.0, False, False
        is_int = False
        i += 1
        exp_negative = False
        if i < end and (buf[i] == 43 or buf[i] == 45):
            exp_negative = buf[i] == 45
            i += 1
        if i >= end:
            return 0.0, False, False
        while i < end:
            c = buf[i]
            if not 48 <= c <= 57 or exponent > 400:
                return 0.0, False, False
            exponent = exponent * 10 + (c - 48)
            i += 1
        if exp_negative:
            exponent = -exponent
    if mantissa > _MAX_EXACT:
        return 0.0, False, False
    power = exponent - frac
    if power > 22 or power < -22:
        return 0.0, False, False
    value = mantissa * pow10[power] if power >= 0 else mantissa / pow10[-power]
    return (-value if negative else value), True, is_int


@numba.njit(cache=True, nogil=True)
def _scan(buf, pow10):  # noqa: ANN001, ANN202 (compiled)
    n = buf.shape[0]
    lines = 1
    for k in range(n):
        if buf[k] == 10:
            lines += 1
    line_first = np.zeros(lines, dtype=np.int64)
    line_count = np.zeros(lines, dtype=np.int64)
    capacity = n // 2 + 1
    values = np.zeros(capacity, dtype=np.float64)
    flagged = np.zeros(capacity, dtype=np.bool_)
    is_int = np.zeros(capacity, dtype=np.bool_)
    tok_start = np.zeros(capacity, dtype=np.int64)
    tok_end = np.zeros(capacity, dtype=np.int64)
    tokens = 0
    line = 0
    i = 0
    while i < n:
        c = buf[i]
        if c == 10:
            line += 1
            line_first[line] = tokens
            i += 1
        elif _is_space(c):
            i += 1
        else:
            start = i
            while i < n and not _is_space(buf[i]):
                i += 1
            value, ok, integer = _parse_token(buf, start, i, pow10)
            values[tokens] = value
            flagged[tokens] = not ok
            is_int[tokens] = integer
            tok_start[tokens] = start
            tok_end[tokens] = i
            line_count[line] += 1
            tokens += 1
    return (
        line_first,
        line_count,
        values[:tokens],
        flagged[:tokens],
        is_int[:tokens],
        tok_start[:tokens],
        tok_end[:tokens],
    )


@dataclass
class Scanned:
    """Tokens of one file: per line (0-based) its first token and token count; per token its
    value, whether it needs Python's float (`flagged`), whether it is a plain integer, and its
    byte span in `data`."""

    path: Path
    data: bytes
    line_first: np.ndarray
    line_count: np.ndarray
    values: np.ndarray
    flagged: np.ndarray
    is_int: np.ndarray
    tok_start: np.ndarray
    tok_end: np.ndarray

    def token_text(self, token: int) -> str:
        """The text of one token."""
        return self.data[self.tok_start[token] : self.tok_end[token]].decode("utf-8", "replace")

    def line_of_token(self, token: int) -> int:
        """1-based line number of a token."""
        return int(np.searchsorted(self.line_first, token, side="right"))


def scan_numbers(path: Path, data: bytes) -> Scanned:
    """Tokenize `data` (the bytes of `path`, already known to be valid UTF-8)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    return Scanned(path, data, *_scan(buf, _POW10))


def resolve_flagged(scanned: Scanned, tokens: np.ndarray, expected: str) -> np.ndarray:
    """Values of `tokens` (indices), converting flagged ones with Python's float and rejecting
    non-numbers and non-finite values with the file, line and field named."""
    values = scanned.values[tokens]
    for position in np.flatnonzero(scanned.flagged[tokens]):
        token = int(tokens.reshape(-1)[position])
        text = scanned.token_text(token)
        try:
            values.reshape(-1)[position] = float(text)
        except ValueError:
            raise RawFormatError(
                scanned.path,
                f"expected {expected}; found {text[:30]!r}, not a number",
                scanned.line_of_token(token),
            ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        token = int(tokens.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])])
        raise RawFormatError(
            scanned.path, "non-finite value (NaN or inf)", scanned.line_of_token(token)
        )
    return values
