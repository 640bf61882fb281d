"""The compiled tokenizer of the text readers against Python's own `float` and `str.split`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skelprep.readers.scan import FLAGGED, scan_numbers

DIGITS = st.text("0123456789", min_size=0, max_size=24)
NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.7f}"),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda x: f"{x:.6E}"),
    st.integers(-(10**20), 10**20).map(str),
    st.tuples(st.sampled_from(["", "-", "+"]), DIGITS, st.sampled_from(["", "."]), DIGITS).map(
        "".join
    ),
    st.tuples(DIGITS, st.sampled_from(["e", "E"]), st.sampled_from(["", "-", "+"]), DIGITS).map(
        "".join
    ),
    st.sampled_from(["nan", "inf", "-", ".", "1.2.3", "0x1F", "1e", "abc", "1,5", "--1"]),
)
SPACE = st.sampled_from([" ", "  ", "\t", " \r"])


def _python_value(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(NUMBER_TEXT, max_size=6), min_size=1, max_size=8), SPACE)
def test_tokens_and_values_equal_python_split_and_float(lines: list[list[str]], space: str) -> None:
    text = "\n".join(space.join(tokens) for tokens in lines)
    scanned = scan_numbers(Path("generated.txt"), text.encode())
    expected = [token for line in lines for token in space.join(line).split()]
    assert len(scanned.values) == len(expected)
    for line, tokens in enumerate(lines):
        assert scanned.line_count[line] == len(space.join(tokens).split())
    for k, token in enumerate(expected):
        value = _python_value(token)
        if scanned.kind[k] != FLAGGED:  # converted in the compiled pass: exactly as Python
            assert value is not None and scanned.values[k] == value, token
            assert (scanned.kind[k] == 1) == token.isdigit(), token
        else:  # left to Python: either not a number or outside the exact fast path
            assert value is None or not token.isdigit() or len(token.lstrip("0")) > 18, token


def test_ordinary_kinect_numbers_are_never_left_to_python() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(scale=2.0, size=2000)
    text = "\n".join(f"{v:.7f} {v:.6g} {int(abs(v) * 1000)}" for v in values)
    scanned = scan_numbers(Path("kinect.txt"), text.encode())
    assert not (scanned.kind == FLAGGED).any()
    np.testing.assert_array_equal(scanned.values[0::3], [float(f"{v:.7f}") for v in values])
    np.testing.assert_array_equal(scanned.values[1::3], [float(f"{v:.6g}") for v in values])


def test_digit_runs_of_every_length_anywhere_in_the_buffer() -> None:
    """Word-at-a-time digit runs: every length 0-19, ending mid-word, on a word boundary or at
    the very end of the buffer (the short-word path), after any offset."""
    from skelprep.readers.digits import digit_run

    for length in range(20):
        digits = "".join(str((7 * k + length) % 10) for k in range(length))
        for prefix in ("", "x", "xyz", "-0.1234 "):
            for suffix in ("", " ", "e5 12345678", "\n"):
                text = (prefix + digits + suffix).encode()
                buf = np.frombuffer(text, dtype=np.uint8)
                stop, count, mantissa = digit_run(buf, len(prefix), len(buf), 0)
                assert (stop, count) == (len(prefix) + length, length), (prefix, digits, suffix)
                if length <= 18:
                    assert mantissa == int(digits or "0"), (prefix, digits, suffix)
