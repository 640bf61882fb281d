"""Mixed precision: "auto" is bf16 exactly where the device computes it natively, and "bf16"
computes the same numbers with or without bf16 hardware (`stgnode.amp.Float32Products`).

The oracles: torch's own bf16 autocast (oneDNN's bf16 arithmetic, emulated on a CPU without
avx512_bf16) and the float64 result of the bf16-rounded operands, rounded once to bf16.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from stgnode.amp import NATIVE_BF16, autocast, native_bf16, resolve
from stgnode.commands.train import train
from stgnode.config import merge_overrides
from stgnode.distributed import DistContext
from stgnode.train import run_training

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
    assert resolve("auto", CPU.device) == ("bf16" if native else "none")
    for explicit in ("none", "bf16"):
        assert resolve(explicit, CPU.device) == explicit
    with autocast("auto", CPU.device):
        product = torch.ones(4, 4) @ torch.ones(4, 4)
    assert product.dtype == (torch.bfloat16 if native else torch.float32)


def _inputs() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shapes = {"x": (8, 16, 48, 20), "w": (32, 16, 9, 1), "b": (32,), "a": (4, 30, 40),
              "m": (4, 40, 50), "c": (4, 30, 50), "y": (8, 3, 16, 48, 20), "g": (3, 20, 20),
              "l": (64, 128), "lw": (10, 128)}  # fmt: skip
    return {k: torch.randn(shape, generator=g) for k, shape in shapes.items()}


#: The products the models compute (temporal convolution, classifier, ODE operators, graph
#: aggregation), as functions of `_inputs()`.
PRODUCTS = {
    "conv2d": lambda t: F.conv2d(t["x"], t["w"], t["b"], padding=(4, 0)),
    "linear": lambda t: F.linear(t["l"], t["lw"]),
    "matmul": lambda t: t["a"] @ t["m"],
    "baddbmm": lambda t: torch.baddbmm(t["c"], t["a"], t["m"]),
    "einsum": lambda t: torch.einsum("nkctv,kvw->nctw", t["y"], t["g"]),
}


def _bf16_exact(product, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    """The product in float64 of the bf16-rounded inputs, rounded once to bf16."""
    return product({k: v.to(torch.bfloat16).double() for k, v in inputs.items()}).to(torch.bfloat16)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_float32_products_compute_bf16_autocasts_numbers(monkeypatch, name):
    """Without native bf16, "bf16" returns what torch's bf16 autocast returns (all but the
    elements where the float32 sums' order moves the last bit: under 0.1 %); rounding the
    float32 product instead, the shortcut that skips the operands' rounding, matches half."""
    product, inputs = PRODUCTS[name], _inputs()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        reference = product(inputs)
    monkeypatch.setitem(NATIVE_BF16, "cpu", lambda: False)
    with autocast("bf16", CPU.device):
        emulated = product(inputs)
    assert emulated.dtype == reference.dtype == torch.bfloat16
    assert (emulated == reference).float().mean() > 0.999
    assert (emulated == _bf16_exact(product, inputs)).float().mean() > 0.999
    assert (product(inputs).to(torch.bfloat16) == reference).float().mean() < 0.7


def test_float32_products_backward_is_bf16_rounded(monkeypatch):
    """The convolution's gradients under emulated bf16: float32 sums of the bf16-rounded
    gradient and operands, rounded once to bf16, as the float64 oracle computes them."""
    monkeypatch.setitem(NATIVE_BF16, "cpu", lambda: False)
    inputs, names = _inputs(), ("x", "w", "b")
    leaves = {k: inputs[k].clone().requires_grad_() for k in names}
    with autocast("bf16", CPU.device):
        out = PRODUCTS["conv2d"](leaves)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    out.backward(upstream.to(torch.bfloat16))
    exact = {k: inputs[k].to(torch.bfloat16).double().requires_grad_() for k in names}
    PRODUCTS["conv2d"](exact).backward(upstream.to(torch.bfloat16).double())
    for k in names:
        rounded = exact[k].grad.to(torch.bfloat16).float()
        assert (leaves[k].grad == rounded).float().mean() > 0.999, k
        assert torch.equal(leaves[k].grad.to(torch.bfloat16).float(), leaves[k].grad), k


def test_auto_trains_in_float32_and_bf16_trains_in_bf16(store, tmp_path, tiny_config, monkeypatch):
    """On a CPU taken to lack native bf16: `--amp auto` trains exactly as float32 does
    (deterministic runs of one seed are bit-identical); `--amp bf16` trains with bf16 numbers
    (not float32's) through `Float32Products`, and says so."""
    monkeypatch.setitem(NATIVE_BF16, "cpu", lambda: False)
    config = merge_overrides(tiny_config, ["train.epochs=1", "train.deterministic=true"])
    float32 = run_training(merge_overrides(config, ['train.amp="none"']), store, tmp_path / "f32")
    outputs, last = {}, {}
    for amp in ("auto", "bf16"):
        args = ["--store", str(store), "--out", str(tmp_path / amp), "--amp", amp, "--config",
                str(tmp_path / "f32" / "config.toml")]  # fmt: skip
        result = CliRunner().invoke(train, args)
        assert result.exit_code == 0, result.output
        outputs[amp] = result.output
        last[amp] = json.loads((tmp_path / amp / "metrics.jsonl").read_text().splitlines()[-1])
    assert "train.amp = auto: none on this cpu" in outputs["auto"]
    assert "bf16 (products in float32 on bf16-rounded operands)" in outputs["bf16"]
    for key in ("train_loss", "train_top1", "test_loss", "test_top1"):
        assert last["auto"][key] == float32[key], key
    assert last["bf16"]["train_loss"] != float32["train_loss"]
    assert last["bf16"]["train_loss"] == pytest.approx(float32["train_loss"], rel=0.05)
