"""The NTU field rules are checked by one compiled pass (readers.ntu_walk.gather_tracks), which
stops at the first field in file order that breaks one; these files hold more than one
problem, or numbers only Python's float converts, to pin that order down."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelprep.errors import RawFormatError
from tests.skelprep.raw_corpus import LINES, NAME, J, check_error, encode, nth, read_ntu_file

LONG = "0.1234567890123456789012345"  # 26 significant digits: left to Python's float


def _with(changes: dict[tuple[int, int], str | None]) -> bytes:
    """The template file with field (line, field) set to each value (None: dropped)."""
    lines = list(LINES)
    for (index, field), value in changes.items():
        parts = lines[index].split()
        if value is None:
            del parts[field]
        else:
            parts[field] = value
        lines[index] = " ".join(parts)
    return encode(lines)


@pytest.mark.parametrize(
    ("changes", "line", "phrase"),
    [
        # a field count on an earlier joint line, a non-number on a later one
        ({(J, 11): None, (J + 5, 0): "abc"}, J + 1, "found 11 fields"),
        ({(J, 0): "abc", (J + 5, 11): None}, J + 1, "found 'abc', not a number"),
        # a later body-info line is not checked before an earlier joint line
        ({(J, 11): "3", (nth("body line", 5), 7): "NaN"}, J + 1, "trackingState must be one of"),
        # numbers Python converts do not hide the non-number or the NaN after them
        ({(J, 0): LONG, (J + 1, 0): LONG, (J + 5, 2): "abc"}, J + 6, "'abc', not a number"),
        ({(J, 0): LONG, (J + 5, 1): "nan"}, J + 6, "non-finite value or beyond float32"),
        ({(J, 0): LONG, (J + 5, 1): "1e39"}, J + 6, "non-finite value or beyond float32"),
    ],
)
def test_the_first_problem_in_file_order_is_named(
    tmp_path: Path, changes: dict, line: int, phrase: str
) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(_with(changes))
    with pytest.raises(RawFormatError) as caught:
        read_ntu_file(path)
    check_error(caught.value, path, line, phrase)


def test_a_number_only_python_converts_reads_as_its_float(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(encode(LINES))
    plain = read_ntu_file(path)
    path.write_bytes(_with({(J, 0): LINES[J].split()[0] + "000000000000000000000001"}))
    assert read_ntu_file(path).joints.tobytes() == plain.joints.tobytes()
