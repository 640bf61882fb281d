"""Mixed precision: `train.amp = "auto"` is bf16 exactly where the device computes it natively.

A CPU without avx512_bf16 or AMX emulates bf16 (about 9x slower than float32 on an AVX2-only
EPYC, docs/results.md), so the real-data configs ask for "auto", not "bf16".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from stgnode.commands.train import train
from stgnode.config import merge_overrides
from stgnode.distributed import DistContext
from stgnode.epoch import NATIVE_BF16, amp_mode, autocast, native_bf16
from stgnode.train import check_options, run_training

CPU = DistContext(0, 1, 0, torch.device("cpu"))
CPUINFO = Path("/proc/cpuinfo")


@pytest.mark.skipif(not CPUINFO.exists(), reason="no /proc/cpuinfo to read the CPU's flags from")
def test_native_bf16_agrees_with_the_cpu_flags():
    """The probe (torch's CPUID reading) against the kernel's list of the CPU's features."""
    flag_lines = [line for line in CPUINFO.read_text().splitlines() if line.startswith("flags")]
    flags = set(flag_lines[0].split(":", 1)[1].split())
    assert native_bf16(CPU.device) == bool({"avx512_bf16", "amx_tile"} & flags)


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bf16_only_where_native(monkeypatch, native):
    monkeypatch.setitem(NATIVE_BF16, "cpu", lambda: native)
    auto = {"train": {"amp": "auto"}}
    assert amp_mode(auto, CPU.device) == ("bf16" if native else "none")
    for explicit in ("none", "bf16"):
        assert amp_mode({"train": {"amp": explicit}}, CPU.device) == explicit
    with autocast(auto, CPU.device):
        product = torch.ones(4, 4) @ torch.ones(4, 4)
    assert product.dtype == (torch.bfloat16 if native else torch.float32)


def test_emulated_bf16_warns_and_auto_trains_in_float32(store, tmp_path, tiny_config, monkeypatch):
    """On a CPU taken to lack native bf16: asking for bf16 warns; `--amp auto` trains exactly
    as float32 does (deterministic runs of one seed are bit-identical)."""
    monkeypatch.setitem(NATIVE_BF16, "cpu", lambda: False)
    config = merge_overrides(tiny_config, ["train.epochs=1", "train.deterministic=true"])
    with pytest.warns(UserWarning, match="without native bf16 .* several times slower"):
        check_options(merge_overrides(config, ['train.amp="bf16"']), CPU)
    float32 = run_training(merge_overrides(config, ['train.amp="none"']), store, tmp_path / "f32")
    args = ["--store", str(store), "--out", str(tmp_path / "auto"), "--amp", "auto", "--config",
            str(tmp_path / "f32" / "config.toml")]  # fmt: skip
    result = CliRunner().invoke(train, args)
    assert result.exit_code == 0, result.output
    assert "train.amp = auto: none on this cpu" in result.output
    auto = json.loads((tmp_path / "auto" / "metrics.jsonl").read_text().splitlines()[-1])
    for key in ("train_loss", "train_top1", "test_loss", "test_top1"):
        assert auto[key] == float32[key], key
