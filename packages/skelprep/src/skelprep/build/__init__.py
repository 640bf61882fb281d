"""The store build: reuse or build `<store>` from a raw directory with Dask, atomically and
resumably (see run.py for the phases, staging.py for the `.partial` layout).
"""

from skelprep.build.decide import Action, BuildMismatch
from skelprep.build.params import BuildParams
from skelprep.build.run import BuildRequest, BuildResult, build_store

__all__ = ["Action", "BuildMismatch", "BuildParams", "BuildRequest", "BuildResult", "build_store"]
