"""Input mixup: the mix is a convex combination with a partner of the same batch, the loss is
the cross-entropy against the mixed one-hot target, and alpha 0 changes nothing."""

import pytest
import torch
import torch.nn.functional as F

from stgnode.mixup import mix_batch, mixed_cross_entropy


def test_alpha_zero_is_the_identity_and_draws_nothing():
    x, y = torch.randn(6, 3, 8, 20, 1), torch.arange(6)
    state = torch.get_rng_state()
    mixed, other, lam = mix_batch(x, y, 0.0)
    assert mixed is x and other is y and lam == 1.0
    assert torch.equal(torch.get_rng_state(), state), "a run without mixup must draw the same"


def test_each_sample_is_mixed_with_one_partner_of_the_batch():
    """Sample i holds the constant i, so its mix is lam * i + (1 - lam) * partner everywhere."""
    torch.manual_seed(0)
    n = 16
    y = torch.arange(n)
    x = y.float()[:, None, None, None, None].expand(n, 3, 8, 20, 1).clone()
    mixed, other, lam = mix_batch(x, y, 0.4)
    assert 0.0 < lam < 1.0
    assert sorted(other.tolist()) == list(range(n)), "the partners are a permutation"
    expected = lam * y.float() + (1 - lam) * other.float()
    assert torch.allclose(mixed, expected[:, None, None, None, None].expand_as(x))


def test_lam_follows_beta_alpha_alpha():
    """Beta(a, a) has mean 1/2 and variance 1 / (4 (2a + 1)): 0.125 at a = 0.5."""
    torch.manual_seed(1)
    x, y = torch.zeros(2, 1), torch.arange(2)
    lams = torch.tensor([mix_batch(x, y, 0.5)[2] for _ in range(4000)])
    assert lams.mean().item() == pytest.approx(0.5, abs=0.02)
    assert lams.var().item() == pytest.approx(0.125, abs=0.01)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_mixed_loss_is_the_cross_entropy_of_the_mixed_target(smoothing):
    torch.manual_seed(2)
    logits = torch.randn(5, 4)
    y, other = torch.tensor([0, 1, 2, 3, 0]), torch.tensor([3, 3, 1, 0, 2])
    lam = 0.3
    target = lam * F.one_hot(y, 4).float() + (1 - lam) * F.one_hot(other, 4).float()
    oracle = F.cross_entropy(logits, target, label_smoothing=smoothing)
    got = mixed_cross_entropy(logits, y, other, lam, smoothing)
    assert got.item() == pytest.approx(oracle.item(), rel=1e-6)
    plain = mixed_cross_entropy(logits, y, other, 1.0, smoothing)
    assert torch.equal(plain, F.cross_entropy(logits, y, label_smoothing=smoothing))
