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
from skelprep.readers.base import FLOAT32_MAX
from skelprep.readers.digits import digit_run

_POW10 = np.array([10.0**k for k in range(23)])
_MAX_EXACT = 2**53
_MAX_DIGITS = 18
FLAGGED = 2


@numba.njit(cache=True, nogil=True, inline="always")
def _is_space(c: int) -> bool:
    return c == 32 or 9 <= c <= 13  # space, \t \n \v \f \r: what str.split splits on


@numba.njit(cache=True, nogil=True)
def _significant(buf, start, stop):  # noqa: ANN001, ANN202 (compiled)
    """Digits of buf[start:stop] after the leading zeros (the point skipped)."""
    count = 0
    for k in range(start, stop):
        c = buf[k]
        if c == 46:
            continue
        if count > 0 or c != 48:
            count += 1
    return count


@numba.njit(cache=True, nogil=True)
def _scan(buf, pow10):  # noqa: ANN001, ANN202, PLR0912, PLR0915 (compiled)
    """Tokenize and convert; kind per token: 0 decimal, 1 plain integer, 2 flagged."""
    n = buf.shape[0]
    lines = 1
    for k in range(n):
        lines += buf[k] == 10
    line_first = np.zeros(lines, dtype=np.int64)
    line_count = np.zeros(lines, dtype=np.int64)
    line_start = np.zeros(lines, dtype=np.int64)
    capacity = n // 2 + 1
    values = np.empty(capacity, dtype=np.float64)
    kind = np.empty(capacity, dtype=np.int8)
    tokens = 0
    line = 0
    i = 0
    while i < n:
        c = buf[i]
        if _is_space(c):
            if c == 10:
                line_count[line] = tokens - line_first[line]
                line += 1
                line_first[line] = tokens
                line_start[line] = i + 1
            i += 1
            continue
        negative = c == 45
        signed = negative or c == 43
        i += signed
        start = i
        mantissa = 0
        while i < n:  # the integer part: mostly 1 to 3 digits, a byte loop is cheapest
            d = np.int64(buf[i]) - 48
            if d < 0 or d > 9:
                break
            mantissa = mantissa * 10 + d
            i += 1
        digits = i - start
        frac = 0
        point = i < n and buf[i] == 46
        if point:
            i, frac, mantissa = digit_run(buf, i + 1, n, mantissa)
            digits += frac
        any_digit = digits > 0
        ok = digits <= _MAX_DIGITS or _significant(buf, start, i) <= _MAX_DIGITS
        exponent = 0
        has_exponent = False
        if i < n and (buf[i] | 32) == 101 and any_digit:  # e or E
            has_exponent = True
            i += 1
            exp_negative = False
            if i < n and (buf[i] == 43 or buf[i] == 45):
                exp_negative = buf[i] == 45
                i += 1
            exp_digits = 0
            while i < n and 48 <= buf[i] <= 57:
                if exponent < 1000:
                    exponent = exponent * 10 + (buf[i] - 48)
                exp_digits += 1
                i += 1
            ok = ok and exp_digits > 0
            if exp_negative:
                exponent = -exponent
        if i < n and not _is_space(buf[i]):
            ok = False
            while i < n and not _is_space(buf[i]):
                i += 1
        ok = ok and any_digit
        power = exponent - frac
        value = 0.0
        if ok and not point and not has_exponent and not signed:
            value = float(mantissa)
            kind[tokens] = 1
        elif ok and mantissa <= _MAX_EXACT and -22 <= power <= 22:
            value = mantissa * pow10[power] if power >= 0 else mantissa / pow10[-power]
            kind[tokens] = 0
        else:
            kind[tokens] = FLAGGED
        values[tokens] = -value if negative else value
        tokens += 1
    line_count[line] = tokens - line_first[line]
    line_int = np.full(lines, -1, dtype=np.int64)
    for k in range(lines):
        if line_count[k] == 1 and kind[line_first[k]] == 1 and values[line_first[k]] < _MAX_EXACT:
            line_int[k] = np.int64(values[line_first[k]])
    return line_first, line_count, line_start, line_int, values[:tokens], kind[:tokens]


@dataclass
class Scanned:
    """Tokens of one file. Per line (0-based): index of its first token, token count, byte offset,
    and its value if the line is exactly one plain non-negative integer (else -1). Per token: its
    value and kind (0 decimal, 1 plain non-negative integer, 2 flagged: needs Python's float)."""

    path: Path
    data: bytes
    line_first: np.ndarray
    line_count: np.ndarray
    line_start: np.ndarray
    line_int: np.ndarray
    values: np.ndarray
    kind: np.ndarray

    def line_of_token(self, token: int) -> int:
        """1-based line number of a token."""
        return int(np.searchsorted(self.line_first, token, side="right"))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line."""
        start = int(self.line_start[line - 1])
        end = self.data.find(b"\n", start)
        return self.data[start : end if end >= 0 else len(self.data)].decode("utf-8", "replace")

    def token_text(self, token: int) -> str:
        """The text of one token."""
        line = self.line_of_token(token)
        return self.line_text(line).split()[token - int(self.line_first[line - 1])]


def scan_numbers(path: Path, data: bytes) -> Scanned:
    """Tokenize `data` (the bytes of `path`, already known to be valid UTF-8)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    return Scanned(path, data, *_scan(buf, _POW10))


def convert_flagged(scanned: Scanned) -> bool:
    """Convert, in place, every flagged token of the file that Python's `float` reads (its kind
    becomes decimal); a token it cannot read stays flagged. True when any was converted."""
    converted = False
    for token in np.flatnonzero(scanned.kind == FLAGGED).tolist():
        try:
            scanned.values[token] = float(scanned.token_text(token))
        except ValueError:
            continue
        scanned.kind[token] = 0
        converted = True
    return converted


def resolve_flagged(scanned: Scanned, tokens: np.ndarray, expected: str) -> np.ndarray:
    """Values of `tokens` (indices), converting flagged ones with Python's float and rejecting
    non-numbers and non-finite values with the file, line and field named."""
    values = scanned.values[tokens]
    for position in np.flatnonzero(scanned.kind[tokens].reshape(-1) == FLAGGED):
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
    bad = ~(np.abs(values) <= FLOAT32_MAX)  # NaN, inf, and what float32 storage makes inf
    if bad.any():
        token = int(tokens.reshape(-1)[int(np.flatnonzero(bad.reshape(-1))[0])])
        raise RawFormatError(
            scanned.path,
            f"non-finite value or beyond float32 range: {scanned.token_text(token)[:30]!r}",
            scanned.line_of_token(token),
        )
    return values
