"""lmlab.privacy's attacks (lmlab/_privacy_attacks.py): metrics against numpy formulas and hand values, the matching objective's
double backward against finite differences (torch.autograd.gradcheck), and the attacks recovering
inputs of tiny torch.nn models (bounds derived in each test)."""
import math

import numpy as np
import pytest
import torch

from lmlab import privacy as pa


def numpy_ssim(x, y, win=11, sigma=1.5, c1=1e-4, c2=9e-4):
    g = np.exp(-((np.arange(win) - win // 2) ** 2) / (2 * sigma**2))
    w = np.outer(g, g) / g.sum() ** 2
    vals = []
    for r in range(x.shape[0] - win + 1):
        for c in range(x.shape[1] - win + 1):
            a, b = x[r:r + win, c:c + win], y[r:r + win, c:c + win]
            mx, my = (w * a).sum(), (w * b).sum()
            vx, vy, cxy = (w * a * a).sum() - mx**2, (w * b * b).sum() - my**2, (w * a * b).sum() - mx * my
            vals.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return float(np.mean(vals))


def test_image_metrics_match_numpy():
    torch.manual_seed(0)
    ref = torch.rand(3, 1, 14, 13)
    x = (ref + 0.1 * torch.randn_like(ref)).clamp(0, 1)
    mse = ((x - ref) ** 2).double().mean(dim=(1, 2, 3))
    assert torch.allclose(pa.image_mse(x, ref), mse, atol=1e-12)
    assert torch.allclose(pa.psnr(x, ref), 10 * torch.log10(1 / mse), atol=1e-9)
    s = pa.ssim(x, ref)
    for n in range(3):
        assert s[n].item() == pytest.approx(numpy_ssim(x[n, 0].double().numpy(), ref[n, 0].double().numpy()), abs=1e-9)
    assert pa.label_accuracy(torch.tensor([1, 2, 3]), torch.tensor([1, 0, 3])) == pytest.approx(2 / 3)


def test_text_metrics_match_hand_counts():
    p, r, f = pa.rouge_n(torch.tensor([1, 2, 1, 3]), torch.tensor([1, 2, 3, 3, 4]), 1)
    assert (p, r) == (0.75, 0.6) and f == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert pa.rouge_n(torch.tensor([1, 2, 1, 3]), torch.tensor([1, 2, 3, 3, 4]), 2)[2] == pytest.approx(2 / 7)
    assert pa.token_accuracy(torch.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 0], [3, 4]])) == 0.75
    with pytest.raises(ValueError, match="n >= 1"):
        pa.rouge_n(torch.tensor([1]), torch.tensor([1]), 0)


def tiny_mlp(side=3, hidden=6, classes=4, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(side * side, hidden), torch.nn.Tanh(),
                               torch.nn.Linear(hidden, classes)).to(dtype)


def test_distances_and_soft_cross_entropy_match_formulas():
    torch.manual_seed(1)
    d, g = [torch.randn(3, 2), torch.randn(4)], [torch.randn(3, 2), torch.randn(4)]
    fd, fg = torch.cat([t.flatten() for t in d]), torch.cat([t.flatten() for t in g])
    assert float(pa.gradient_distance(d, g, "l2")) == pytest.approx(float(((fd - fg) ** 2).sum()), rel=1e-6)
    assert float(pa.gradient_distance(d, g, "cosine")) == pytest.approx(1 - float(fd @ fg / (fd.norm() * fg.norm())), abs=1e-6)
    assert float(pa.gradient_distance(d, g, "l2+l1", 0.5)) == pytest.approx(
        float(((fd - fg) ** 2).sum() + 0.5 * (fd - fg).abs().sum()), rel=1e-6)
    logits, labels = torch.randn(5, 7), torch.tensor([0, 6, 2, 2, 1])
    assert float(pa.soft_cross_entropy(logits, labels)) == pytest.approx(float(torch.nn.functional.cross_entropy(logits, labels)))
    with pytest.raises(ValueError, match="unknown distance"):
        pa.gradient_distance(d, g, "l3")


@pytest.mark.parametrize("distance", ["l2", "cosine", "l2+l1"])
def test_matching_objective_double_backward_matches_finite_differences(distance):
    model = tiny_mlp(dtype=torch.double)
    target = pa.victim_gradients(model, torch.rand(2, 1, 3, 3, dtype=torch.double), torch.tensor([1, 3]))
    x = torch.rand(2, 1, 3, 3, dtype=torch.double, requires_grad=True)
    y = torch.randn(2, 4, dtype=torch.double, requires_grad=True)
    f = lambda x, y: pa.gradient_distance(pa.victim_gradients(model, x, y, create_graph=True), target, distance, 0.1)
    assert torch.autograd.gradcheck(f, (x, y))


def test_dlg_recovers_image_and_label():
    # 13 unknowns against 88 gradient equations: the true input is the exact match; MSE < 1e-3
    # fails for any wrong image (random images are ~0.17 apart).
    model = tiny_mlp(seed=7)
    x, y = torch.rand(1, 1, 3, 3), torch.tensor([2])
    r = pa.dlg(model, pa.victim_gradients(model, x, y), (1, 1, 3, 3), label_shape=(1, 4), iterations=30, seed=1)
    assert not r.diverged
    assert float(pa.image_mse(r.inputs, x)[0]) < 1e-3
    assert int(r.labels[0]) == 2


def test_idlg_label_rule_is_exact_on_linear_softmax():
    torch.manual_seed(3)
    layer = torch.nn.Linear(5, 6)
    for y in range(6):
        h = torch.relu(torch.randn(1, 5)) + 1e-3
        gw, gb = torch.autograd.grad(pa.soft_cross_entropy(layer(h), torch.tensor([y])), [layer.weight, layer.bias])
        assert pa.idlg_label(weight_grad=gw) == y and pa.idlg_label(bias_grad=gb) == y
    model = tiny_mlp(seed=9)
    x = torch.rand(1, 1, 3, 3)
    target = pa.victim_gradients(model, x, torch.tensor([1]))
    r = pa.idlg(model, target, (1, 1, 3, 3), head_weight=2, head_bias=3, iterations=30, seed=3)
    assert int(r.labels[0]) == 1 and float(pa.image_mse(r.inputs, x)[0]) < 1e-3
    with pytest.raises(ValueError, match="batch 1"):
        pa.idlg(model, target, (2, 1, 3, 3), head_weight=2)


def test_inverting_gradients_recovers_inside_the_box():
    # With a first-layer bias, dW_0 = db_0 x^T pins x; a random box image scores ~8 dB, a working
    # attack far above 20 dB.
    model = tiny_mlp(side=6, hidden=12, classes=5, seed=11)
    x, y = torch.rand(1, 1, 6, 6), torch.tensor([4])
    r = pa.inverting_gradients(model, pa.victim_gradients(model, x, y), (1, 1, 6, 6), labels=y, iterations=800, seed=5)
    assert 0 <= float(r.inputs.min()) and float(r.inputs.max()) <= 1
    assert float(pa.psnr(r.inputs, x)[0]) > 20


class EmbeddingLM(torch.nn.Module):
    """A tiny causal-free LM: token table, per-position mixing, head (for TAG on embeddings)."""

    def __init__(self, vocab=12, width=16, length=4):
        super().__init__()
        torch.manual_seed(5)
        self.table = torch.nn.Embedding(vocab, width)
        self.pos = torch.nn.Parameter(0.1 * torch.randn(length, width))
        self.body = torch.nn.Linear(width, width)
        self.mix = torch.nn.Linear(length, length)
        self.head = torch.nn.Linear(width, vocab)

    def from_embeddings(self, e):
        h = torch.tanh(self.body(e + self.pos))
        return self.head(torch.tanh(self.mix(h.transpose(1, 2)).transpose(1, 2)))


def test_tag_recovers_tokens_with_known_labels_and_finds_the_token_set():
    model = EmbeddingLM()
    tokens, targets = torch.tensor([[3, 9, 1, 6]]), torch.tensor([[9, 1, 6, 2]])
    real = lambda m, ids, y: pa.soft_cross_entropy(m.from_embeddings(m.table(ids)), y)
    on_embeddings = lambda m, e, y: pa.soft_cross_entropy(m.from_embeddings(e), y)
    target = pa.victim_gradients(model, tokens, targets, loss_fn=real)
    table_index = [p is model.table.weight for p in model.parameters()].index(True)
    bag = pa.tokens_in_gradient(target[table_index])
    assert bag.tolist() == [1, 3, 6, 9]
    r = pa.tag(model, target, (1, 4, 16), labels=targets, iterations=600, seed=2, loss_fn=on_embeddings)
    # Chance is 1/4 per position among the candidates; all 4 right by luck has probability 1/256.
    assert torch.equal(pa.nearest_tokens(r.inputs, model.table.weight, candidates=bag), tokens)


def test_causal_label_map_ties_labels_to_the_next_input():
    torch.manual_seed(2)
    table = torch.randn(5, 3)
    ids = torch.tensor([[4, 0, 2]])
    free = torch.randn(1, 3, 5)
    labels = pa.causal_label_map(table)(table[ids], free)
    assert labels.shape == (1, 3, 5)
    assert torch.equal(labels[:, :2].argmax(-1), ids[:, 1:])
    assert torch.equal(labels[:, 2:], free[:, 2:])
    for distance in ("cosine", "l2"):
        assert torch.equal(pa.nearest_tokens(table[ids] + 1e-3 * torch.randn(1, 3, 3), table, distance), ids)


def test_bad_arguments_raise_value_error():
    model = tiny_mlp()
    target = pa.victim_gradients(model, torch.rand(1, 1, 3, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="label_shape"):
        pa.dlg(model, target, (1, 1, 3, 3))
    with pytest.raises(ValueError, match="parameters"):
        pa.dlg(model, target[:2], (1, 1, 3, 3), label_shape=(1, 4))
    with pytest.raises(ValueError, match="lr"):
        pa.inverting_gradients(model, target, (1, 1, 3, 3), labels=torch.tensor([0]), lr=-1)
    with pytest.raises(ValueError, match=r"\[B, T, C\]"):
        pa.tag(model, target, (1, 9), label_shape=(1, 4))
    bad = [t.clone() for t in target]
    bad[0][0, 0] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        pa.dlg(model, bad, (1, 1, 3, 3), label_shape=(1, 4))
