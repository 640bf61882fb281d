"""`skelprep synth`: synthetic skeleton actions written in the real raw formats (NTU, Kinetics).

Why: no real dataset can be downloaded here, yet the readers, splits and the whole pipeline must
run unchanged on realistic input. `generate` writes a recognition problem that is not a lookup:
kinematic bodies with per-subject proportions perform NTU-named actions, filmed by the NTU
three-camera rig, with sensor noise, inferred joints, ghost bodies, dropped frames and
missing-skeleton samples.
"""

from __future__ import annotations

from skelprep.synth.dataset import SynthSize, SynthSummary, generate, plan, record
from skelprep.synth.motions import MOTIONS
from skelprep.synth.take import SampleSpec

__all__ = ["MOTIONS", "SampleSpec", "SynthSize", "SynthSummary", "generate", "plan", "record"]
