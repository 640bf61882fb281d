"""Shared test fixtures: where the real data lives, and how its absence is reported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path of ../shared/realdata; skips (or fails under CI's STGNODE_REQUIRE_REALDATA=1) when absent."""
    if not REALDATA.is_dir():
        reason = f"real data not found at {REALDATA} (it lives in ../shared beside the checkout)"
        if os.environ.get("STGNODE_REQUIRE_REALDATA"):
            pytest.fail(reason)
        pytest.skip(reason)
    return REALDATA
