"""The base class of every error stgnode raises on purpose for input a user can correct.

The command line turns exactly these into a one-line message (exit status 1); any other
exception, a `KeyError` or `ValueError` from a bug included, keeps its traceback. Each type
stays a `ValueError` so that callers which caught `ValueError` before keep working.
"""

from __future__ import annotations


class StgnodeError(ValueError):
    """Bad input a user can correct: a config, store, checkpoint, option or scores file."""
