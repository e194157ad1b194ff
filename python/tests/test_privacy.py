"""lmlab.privacy: the accountant's published values, per-example gradients against functorch's
vmap (an independent plain-PyTorch reference), DP-SGD's step against the plain formula, attention
inversion's gradient against autograd, and bad input."""
import math

import pytest
import torch
from functorch import grad, make_functional, vmap

from lmlab import privacy


def rel(a, b):
    return abs(a - b) / abs(b)


def test_accountant_reproduces_published_values():
    eps, order = privacy.epsilon(1.5, 0.04, 2250, 1e-5)
    assert rel(eps, 7.32911117143) < 1e-6 and order == 3.9
    eps, order = privacy.epsilon(1.3, 150 / 60000, 6000, 1e-5)
    assert rel(eps, 0.7242234026109595) < 1e-6 and order == 19
    eps, order = privacy.epsilon(1.0, 100 / 100000, 30000, 1e-7)
    assert rel(eps, 1.4154988495444842) < 1e-6 and order == 13
    assert rel(privacy.rdp(0.1, 2.0, 10, [5.0])[0], 0.0773696849) < 1e-6
    assert abs(privacy.noise_multiplier(8.0, 0.04, 2000, 1e-5) - 1.3562) < 5e-5
    assert len(privacy.default_orders()) == 151
    assert privacy.epsilon(1.3, 150 / 60000, 6000, 1e-5, conversion="classic")[0] > 0.76


class Net(torch.nn.Module):
    """Embedding, layer norm and linear layers on sequences, mean-pooled to a class."""

    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(11, 6)
        self.ln = torch.nn.LayerNorm(6)
        self.fc = torch.nn.Linear(6, 8)
        self.out = torch.nn.Linear(8, 3)

    def forward(self, ids):
        return self.out(torch.tanh(self.fc(self.ln(self.emb(ids)))).mean(1))


def per_example_losses(net, ids, y):
    return torch.nn.functional.cross_entropy(net(ids), y, reduction="none")


def test_per_example_gradients_match_functorch_vmap():
    torch.manual_seed(0)
    net = Net().double()
    ids, y = torch.randint(0, 11, (5, 4)), torch.randint(0, 3, (5,))
    ours = privacy.per_example_gradients(net, per_example_losses(net, ids, y))
    fnet, params = make_functional(net)
    ref = vmap(grad(lambda p, i, t: per_example_losses(lambda z: fnet(p, z), i[None], t[None]).sum()),
               in_dims=(None, 0, 0))(params, ids, y)
    assert list(ours) == [n for n, _ in net.named_parameters()]
    for (name, g), r in zip(ours.items(), ref):
        assert g.shape == r.shape
        assert torch.allclose(g, r, atol=1e-10, rtol=0), name
    assert all(p.grad is None for p in net.parameters())


def test_unsupported_layer_is_named():
    attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(3, 4, 8)
    with pytest.raises(ValueError, match="in_proj_(weight|bias)"):
        privacy.per_example_gradients(attn, attn(x, x, x)[0].sum((1, 2)))
    with pytest.raises(ValueError, match=r"1-D tensor \[B\]"):
        lin = torch.nn.Linear(2, 2)
        privacy.per_example_gradients(lin, lin(torch.randn(3, 2)).sum())


def test_clip_and_noise_is_the_plain_formula():
    torch.manual_seed(1)
    g = [torch.randn(6, 3, 2, dtype=torch.float64) * 3, torch.randn(6, 4, dtype=torch.float64)]
    norms = torch.cat([t.reshape(6, -1) for t in g], 1).norm(dim=1)
    factor = (1.0 / (norms + 1e-6)).clamp(max=1)
    want = [torch.einsum("b,b...->...", factor, t) / 6 for t in g]
    got = privacy.clip_and_noise(g, max_grad_norm=1.0, noise_multiplier=0.0, expected_batch_size=6)
    for a, b in zip(got, want):
        assert torch.allclose(a, b, atol=1e-12)
    # Noise only: N(0, (sigma C / m)^2) on 90000 entries; mean within 5 sd / sqrt(n), variance
    # within 5 sd of its estimate (sd sigma^2 sqrt(2/n)).
    z = privacy.clip_and_noise([torch.zeros(1, 300, 300, dtype=torch.float64)], 2.0, 1.5, 10.0,
                               generator=torch.Generator().manual_seed(3))[0]
    s = 1.5 * 2.0 / 10
    assert abs(z.mean().item()) < 5 * s / 300
    assert abs(z.var().item() - s * s) < 5 * s * s * math.sqrt(2 / 90000)
    with pytest.raises(ValueError, match="C = 0"):
        privacy.clip_and_noise(g, 0.0, 1.0, 6)


def test_dpsgd_noiseless_step_and_accounting():
    torch.manual_seed(2)
    net = Net()
    ids, y = torch.randint(0, 11, (6, 4)), torch.randint(0, 3, (6,))
    before = [p.detach().clone() for p in net.parameters()]
    mean = None
    for i in range(6):  # the reference: one backward per example, clipped to 0.5, averaged
        net.zero_grad()
        per_example_losses(net, ids[i:i + 1], y[i:i + 1]).sum().backward()
        flat = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
        flat = flat * min(1.0, 0.5 / (flat.norm().item() + 1e-6)) / 6
        mean = flat if mean is None else mean + flat
    dp = privacy.DPSGD(net, torch.optim.SGD(net.parameters(), lr=0.1), noise_multiplier=0.0, max_grad_norm=0.5,
                       sample_rate=1.0, dataset_size=6)
    stats = dp.step(per_example_losses(net, ids, y))
    assert stats["batch"] == 6
    step = torch.cat([(b - p.detach()).reshape(-1) for b, p in zip(before, net.parameters())])
    assert torch.allclose(step, 0.1 * mean, atol=1e-6)
    with pytest.raises(ValueError, match="no finite epsilon"):
        dp.epsilon(1e-5)
    noisy = privacy.DPSGD(net, torch.optim.Adam(net.parameters()), 1.1, 1.0, 0.05, 120, seed=4)
    for _ in range(3):
        idx = noisy.sample_batch()
        noisy.step(per_example_losses(net, ids[idx % 6], y[idx % 6]) if len(idx) else None)
    assert noisy.epsilon(1e-5)[0] == pytest.approx(privacy.epsilon(1.1, 0.05, 3, 1e-5)[0], rel=1e-12)


def test_dpsgd_nan_and_bad_options():
    net = Net()
    dp = privacy.DPSGD(net, torch.optim.SGD(net.parameters(), lr=0.1), 1.0, 1.0, 0.5, 8)
    with pytest.raises(OSError, match="step 1"):
        dp.step(torch.full((3,), float("nan"), requires_grad=True))
    assert dp.steps == 0
    for args, msg in [((1.0, 0.0, 0.5, 8), "C = 0"), ((-1.0, 1.0, 0.5, 8), "sigma = -1"),
                      ((1.0, 1.0, 1.5, 8), "q = 1.5"), ((1.0, 1.0, 0.5, 0), "N = 0")]:
        with pytest.raises(ValueError, match=msg):
            privacy.DPSGD(net, torch.optim.SGD(net.parameters(), lr=0.1), *args)
    for call, msg in [(lambda: privacy.epsilon(0.0, 0.1, 10, 1e-5), "sigma = 0"),
                      (lambda: privacy.epsilon(1.0, 0.0, 10, 1e-5), "q = 0"),
                      (lambda: privacy.epsilon(1.0, 0.1, 0, 1e-5), "steps = 0"),
                      (lambda: privacy.epsilon(1.0, 0.1, 10, 1.0), "delta = 1")]:
        with pytest.raises(ValueError, match=msg):
            call()


def test_attention_inversion():
    torch.manual_seed(5)
    d, n = 4, 8
    w = torch.randn(d, d, dtype=torch.float64) @ torch.randn(d, d, dtype=torch.float64).t() / 2
    x0 = torch.randn(d, n, dtype=torch.float64) / 2
    b = torch.softmax(x0.t() @ w @ x0, dim=1)  # the plain-PyTorch map
    assert torch.allclose(privacy.attention_map(x0, w), b, atol=1e-15)
    x = torch.randn(d, n, dtype=torch.float64, requires_grad=True)
    auto = torch.autograd.grad(0.5 * (torch.softmax(x.t() @ w @ x, 1) - b).pow(2).sum() + 0.15 * x.pow(2).sum(), x)[0]
    assert torch.allclose(privacy.inversion_gradient(x.detach(), w, b, lam=0.3), auto, atol=1e-12)
    best = min((privacy.invert_attention(w, b, torch.randn(d, n, dtype=torch.float64) / 2, max_iterations=300)
                for _ in range(10)), key=lambda r: r.losses[-1])
    assert best.losses[-1] < 1e-20
    _, residual, defect = privacy.fit_w_isometry(x0, best.x, w)
    assert residual < 1e-6 and defect < 1e-6
    with pytest.raises(ValueError, match="unknown solver"):
        privacy.invert_attention(w, b, x0, solver="adam")
