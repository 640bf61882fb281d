"""Mixed precision (`train.amp`): the autocast of a training or evaluation pass.

"bf16" autocasts to bfloat16: convolutions and matrix products take bf16 operands (8-bit
significands), accumulate in float32 and return bf16, and the elementwise ops after them run on
those bf16 tensors; the optimiser keeps float32 weights. The real-data recipes were chosen
under bf16, and its rounding changes their validation figures (docs/results.md), so bf16 has to
mean the same numbers on every machine, at a speed close to float32's:

- where the device computes bf16 products in hardware (a CPU with avx512_bf16 or AMX, a CUDA
  GPU from Ampere on), plain `torch.autocast` does it, faster than float32;
- elsewhere oneDNN emulates the bf16 products about 9x slower than float32 (an AVX2-only EPYC),
  so `Float32Products` computes each of them in float32 from its operands rounded to bf16, and
  rounds the result to bf16. A product of two bf16 numbers is exact in float32, so this is the
  hardware's arithmetic up to the order of the float32 sums, at float32's speed.

"auto" is bf16 where it is native and float32 ("none") elsewhere; "fp16" needs CUDA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

AMP_DTYPES: dict[str, torch.dtype | None] = {
    "none": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}
#: `train.amp` values besides the keys of AMP_DTYPES: "auto" is bf16 where it is native, else none.
AMP_CHOICES = (*AMP_DTYPES, "auto")

#: Whether a device type computes bf16 in hardware.
NATIVE_BF16: dict[str, Callable[[], bool]] = {
    "cpu": lambda: torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported(),
    "cuda": lambda: torch.cuda.is_bf16_supported(including_emulation=False),
}

#: The functions the models reach autocast's lower-precision ops through (nn.Conv2d and
#: nn.Linear call F.conv2d and F.linear; einsum contracts with bmm).
PRODUCTS = frozenset(
    {
        F.conv1d,
        F.conv2d,
        F.linear,
        torch.matmul,
        torch.Tensor.__matmul__,
        torch.mm,
        torch.bmm,
        torch.addmm,
        torch.baddbmm,
        torch.einsum,
    }
)


def native_bf16(device: torch.device) -> bool:
    """True where `device` computes bf16 natively (so bf16 autocast is faster than float32)."""
    probe = NATIVE_BF16.get(device.type)
    return bool(probe and probe())


def resolve(amp: str, device: torch.device) -> str:
    """`amp` (a `train.amp` value) with "auto" resolved on `device`: bf16 if native, else none."""
    if amp == "auto":
        return "bf16" if native_bf16(device) else "none"
    return amp


def _bf16_rounded(value: Any) -> Any:
    """`value` with every floating tensor in it rounded to bf16 and held as float32."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.to(torch.bfloat16).float()
    if isinstance(value, list | tuple):
        return type(value)(_bf16_rounded(v) for v in value)
    return value


class Float32Products(TorchFunctionMode):
    """Inside bf16 autocast on `device_type`: each product of PRODUCTS computed in float32 on
    bf16-rounded operands, its result rounded to bf16 (what bf16 hardware returns).

    Autograd differentiates through the roundings, so the backward pass also gets bf16
    gradients at the same points as under native bf16, and the float32 convolution backward.
    """

    def __init__(self, device_type: str) -> None:
        super().__init__()
        self.device_type = device_type

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in PRODUCTS or not torch.is_autocast_enabled(self.device_type):
            return func(*args, **kwargs)
        with torch.autocast(self.device_type, enabled=False):
            out = func(*_bf16_rounded(args), **{k: _bf16_rounded(v) for k, v in kwargs.items()})
        return out.to(torch.bfloat16)


@contextlib.contextmanager
def autocast(amp: str, device: torch.device) -> Iterator[None]:
    """The autocast of `train.amp = amp` on `device` (a no-op for "none"); bf16 on a device
    without native bf16 computes its products with `Float32Products`."""
    mode = resolve(amp, device)
    dtype = AMP_DTYPES[mode]
    emulate = mode == "bf16" and not native_bf16(device)
    with (
        torch.autocast(device.type, dtype=dtype, enabled=dtype is not None),
        Float32Products(device.type) if emulate else contextlib.nullcontext(),
    ):
        yield
