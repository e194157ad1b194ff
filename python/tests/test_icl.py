"""lmlab.icl: prompts and baselines against plain-PyTorch formulas, the learner's checkpoints
and predictions, LARICL against NOTES P9's linear-attention weights, RICL, and bad input."""
import math

import pytest
import torch

from lmlab import icl


def test_prompts_are_seeded_and_linear():
    xs, ys, ws = icl.regression_prompts(4, 7, 3, seed=5)
    assert xs.shape == (3, 7, 4) and ys.shape == (3, 7) and ws.shape == (3, 4)
    torch.testing.assert_close(ys, torch.einsum("bnd,bd->bn", xs, ws), rtol=1e-5, atol=1e-5)
    assert torch.equal(xs, icl.regression_prompts(4, 7, 3, seed=5)[0])
    bx, by, _ = icl.bias_prompts(xs, ys, ws, "corrupt_y", 0.5, seed=1)
    assert torch.equal(bx, xs) and torch.equal(by[:, 3:], ys[:, 3:]) and not torch.equal(by[:, :3], ys[:, :3])
    _, labels, _ = icl.label_skewed_prompts(3, 5, 10, 0.9, seed=2)
    assert set(labels.unique().tolist()) <= {-1.0, 1.0}


def test_baselines_match_plain_pytorch():
    xs, ys, _ = icl.regression_prompts(3, 8, 5, noise_std=0.3, seed=1)
    x, y = xs.double(), ys.double()
    i = 6
    w_ls = torch.linalg.pinv(x[:, :i]) @ y[:, :i, None]
    torch.testing.assert_close(icl.least_squares(xs, ys)[:, i].double(), (w_ls[..., 0] * x[:, i]).sum(1), rtol=1e-4, atol=1e-5)
    gram = x[:, :i].transpose(1, 2) @ x[:, :i] + 0.5 * torch.eye(3, dtype=torch.float64)
    w_r = torch.linalg.solve(gram, x[:, :i].transpose(1, 2) @ y[:, :i, None])
    torch.testing.assert_close(icl.ridge(xs, ys, 0.5)[:, i].double(), (w_r[..., 0] * x[:, i]).sum(1), rtol=1e-4, atol=1e-5)
    w_a = (y[:, :i, None] * x[:, :i]).mean(1)
    torch.testing.assert_close(icl.averaging(xs, ys)[:, i].double(), (w_a * x[:, i]).sum(1), rtol=1e-4, atol=1e-5)
    dist = ((x[:, :i] - x[:, i:i + 1]) ** 2).sum(-1)
    nn = y[:, :i].gather(1, dist.topk(3, largest=False).indices).mean(1)
    torch.testing.assert_close(icl.nearest_neighbours(xs, ys)[:, i].double(), nn, rtol=1e-4, atol=1e-5)


def test_learner_checkpoint_round_trip_and_mismatches(tmp_path):
    learner = icl.Learner(dim=3, points=6, width=16, seed=0)
    xs, ys, _ = icl.regression_prompts(3, 6, 4, seed=0)
    path = tmp_path / "learner.pt"
    learner.save(path)
    loaded = icl.Learner.load(path)
    assert loaded.options == learner.options
    assert torch.equal(loaded.predict(xs, ys), learner.predict(xs, ys))
    with pytest.raises(ValueError, match="built for d = 3"):
        loaded.predict(*icl.regression_prompts(4, 6, 1)[:2])
    with pytest.raises(ValueError, match="at most 6"):
        loaded.predict(*icl.regression_prompts(3, 7, 1)[:2])
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(OSError, match="corrupt"):
        icl.Learner.load(tmp_path / "junk.pt")
    with pytest.raises(OSError, match="does not exist"):
        icl.Learner.load(tmp_path / "missing.pt")


def test_learner_weights_are_differentiable_and_unit_weights_are_plain_icl():
    learner = icl.Learner(dim=2, points=5, width=16, seed=1)
    xs, ys, _ = icl.regression_prompts(2, 5, 3, seed=1)
    torch.testing.assert_close(learner.predict(xs, ys, torch.ones(4)), learner.predict(xs, ys))
    w = torch.ones(4, requires_grad=True)
    learner(xs, ys, w)[:, -1].sum().backward()
    assert w.grad is not None and w.grad.abs().sum() > 0


def test_laricl_reproduces_the_linear_attention_optimum():
    # Clean prompts: K / (K + d + 1) at every position (NOTES P9). With 40000 validation prompts
    # the estimate's standard error is about 0.02 (tests/icl/reweighting_test.cpp); 0.12 is 6 of them.
    d, k = 3, 6
    xs, ys, _ = icl.regression_prompts(d, k + 1, 40000, seed=3)
    w = icl.laricl(None, xs.double(), ys.double(), ridge=0.0)
    torch.testing.assert_close(w, torch.full((k,), k / (k + d + 1), dtype=torch.float64), rtol=0, atol=0.12)
    noise = [0.0, 8.0, 0.0, 2.0, 0.0, 16.0]
    expected = icl.optimal_linear_attention_weights(d, noise)
    dd = torch.tensor(noise, dtype=torch.float64) + d + 1
    torch.testing.assert_close(expected, (k / dd) / (1 + (1 / dd).sum()))


def test_ricl_lowers_the_validation_error_and_divergence_is_a_value_error():
    xs, ys, ws = icl.regression_prompts(2, 5, 256, seed=4)
    xs, ys, ws = icl.bias_prompts(xs, ys, ws, "corrupt_y", 0.5, seed=5)
    weights, losses = icl.ricl(None, xs, ys, steps=200, lr=0.02)
    assert weights.shape == (4,) and losses[-1] < losses[0]
    assert weights[:2].mean() < weights[2:].mean()  # the corrupted first two examples count less
    for lr in (1e30, 1e300):  # weights overflow float32; an lr beyond float32 itself
        with pytest.raises(ValueError, match="diverged"):
            icl.ricl(None, xs, ys, steps=20, lr=lr)


def test_training_runs_and_bad_options_are_value_errors():
    learner = icl.Learner(dim=1, points=4, width=16, seed=0)
    losses = learner.train(steps=20, batch=16, lr=1e-3)
    assert len(losses) == 20 and all(math.isfinite(v) for v in losses)
    with pytest.raises(ValueError, match="lr"):
        learner.train(steps=5, lr=-1.0)
    with pytest.raises(ValueError, match="multiple"):
        icl.Learner(dim=2, points=4, heads=2, width=15)


def test_tuning_trains_a_copy_and_only_what_the_method_names():
    torch.manual_seed(0)
    learner = icl.Learner(3, 6, layers=1, heads=2, width=16, seed=1)
    before = [p.detach().clone() for p in learner.parameters()]
    xs, ys, ws = icl.regression_prompts(3, 6, 32, seed=2)
    tuned, losses, trained = icl.tune(learner, "full", xs, ys, steps=30, lr=1e-2)
    assert trained == sum(p.numel() for p in learner.parameters())
    assert losses[-1] < losses[0]
    assert all(torch.equal(a, b) for a, b in zip(before, learner.parameters()))  # the given learner is unchanged
    prefixed, _, prefix_params = icl.tune(learner, "prefix:2", xs, ys, steps=5, lr=1e-2)
    assert prefix_params == 1 * 2 * 2 * 2 * (16 // 2)  # layers x {key, value} x heads x M x head dim
    with pytest.raises(ValueError):
        icl.tune(learner, "lora", xs, ys)
