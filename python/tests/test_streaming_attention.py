"""lmlab.attention's streaming attention (P5) against formulas written here in PyTorch: the Chebyshev
interpolant of exp and its error bound, the polynomial feature maps, push/query and causal passes
against exact softmax attention and the batch polynomial formula, the CountSketch decoder, and errors."""
import math

import pytest
import torch

from lmlab.attention import CountSketch, CountSketchOptions, exp_interpolation_error_bound, ExpPolynomial, \
    polynomial_feature_dim, PolynomialFeatures, StreamingAttention


def bessel_i(j, x):
    """Modified Bessel function I_j(x) by its power series."""
    return sum((x / 2) ** (2 * m + j) / (math.factorial(m) * math.factorial(m + j)) for m in range(60))


def horner(coefficients, x):
    out = torch.zeros_like(x)
    for a in reversed(coefficients):
        out = out * x + a
    return out


def tokens(n, d, bound, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.rand(n, d, generator=g, dtype=torch.float64) * 2 - 1) * bound for _ in range(3)]


@pytest.mark.parametrize("radius,degree", [(2.0, 8), (0.5, 3), (6.0, 14)])
def test_the_exp_polynomial_interpolates_at_chebyshev_nodes_within_its_bound(radius, degree):
    p = ExpPolynomial(radius, degree=degree, max_rel_error=0.5)
    assert p.degree == degree and p.radius == radius
    nodes = torch.tensor([radius * math.cos(math.pi * (i + 0.5) / (degree + 1)) for i in range(degree + 1)],
                         dtype=torch.float64)
    rounding = 4 * degree * 2.0 ** -53 * sum(abs(a) * radius ** m for m, a in enumerate(p.coefficients))
    assert (horner(p.coefficients, nodes) - nodes.exp()).abs().max().item() < rounding
    delta = 4 * math.exp(radius) * sum(bessel_i(j, radius) for j in range(degree + 1, degree + 40))
    assert p.rel_error_bound == pytest.approx(delta, rel=1e-9)
    assert exp_interpolation_error_bound(degree, radius) == p.rel_error_bound
    x = torch.linspace(-radius, radius, 2001, dtype=torch.float64)
    assert ((p(x) - x.exp()).abs() <= p.rel_error_bound * x.exp()).all()
    assert (p(x) - horner(p.coefficients, x)).abs().max().item() < 1e-12 * x.exp().max().item()


def test_the_automatic_degree_is_the_smallest_meeting_the_requested_error():
    p = ExpPolynomial(2.0, max_rel_error=1e-4)
    assert exp_interpolation_error_bound(p.degree, 2.0) <= 1e-4 < exp_interpolation_error_bound(p.degree - 1, 2.0)


def test_features_are_monomials_whose_inner_products_are_the_polynomial():
    d, scale = 3, 0.25
    poly = ExpPolynomial(1.5, degree=5, max_rel_error=0.5)
    f = PolynomialFeatures(d, scale, poly)
    assert f.feature_dim == polynomial_feature_dim(d, 5) == math.comb(d + 5, 5)
    q, k, _ = tokens(7, d, 1.0, seed=1)
    phi2 = f.phi2(k)
    assert torch.equal(phi2[:, 0], torch.ones(7, dtype=torch.float64)) and torch.equal(phi2[:, 1:1 + d], k)
    assert torch.allclose(f.phi1(q) @ phi2.T, horner(poly.coefficients, scale * q @ k.T), rtol=1e-12, atol=0)
    assert torch.equal(f.phi1(q), f.phi2(q) * f.weights)


def test_push_then_query_is_within_the_bound_of_softmax_attention_and_equals_the_batch_formula():
    d, n = 4, 300
    q, k, v = tokens(n, d, 1.2, seed=2)
    att = StreamingAttention(d, entry_bound=1.2, max_rel_error=1e-4)
    att.push(k[:100], v[:100])
    att.push(k[100:], v[100:])
    out = att.query(q)
    scores = q @ k.T / d                                           # scale None: 1/d
    exact = torch.softmax(scores, -1) @ v
    assert (out - exact).abs().max().item() <= att.output_error_bound
    delta = att.features.polynomial.rel_error_bound
    assert delta <= 1e-4
    assert att.output_error_bound == pytest.approx(2 * delta / (1 - delta) * v.abs().max().item(), rel=1e-12)
    weights = horner(att.features.polynomial.coefficients, scores)
    assert (out - weights @ v / weights.sum(-1, keepdim=True)).abs().max().item() < 1e-12
    assert att.tokens == n and att.queries == n
    t = att.features.feature_dim
    assert att.state.shape == (d + 1, t) and att.state_bytes >= 8 * (d + 1) * t
    assert att.query(q[:5].float()).dtype == torch.float32


def test_the_causal_pass_equals_the_masked_batch_formula():
    d, n = 3, 90
    q, k, v = tokens(n, d, 1.0, seed=3)
    att = StreamingAttention(d, degree=6, max_rel_error=1e-2, chunk=16)
    out = att.causal(q, k, v)
    weights = horner(att.features.polynomial.coefficients, q @ k.T / d).tril()
    assert (out - weights @ v / weights.sum(-1, keepdim=True)).abs().max().item() < 1e-12
    exact = torch.softmax((q @ k.T / d).masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf")), -1) @ v
    assert (out - exact).abs().max().item() <= att.output_error_bound


def test_count_sketch_recovers_a_sparse_matrix_and_the_streaming_sketch_holds_the_outputs():
    n, cols = 200, 3
    x = torch.zeros(n, cols, dtype=torch.float64)
    for col, (rows, values) in enumerate((([5, 77], [3.0, -2.0]), ([77, 150], [1.5, 4.0]), ([0, 199], [1.0, 1.0]))):
        x[rows, col] = torch.tensor(values, dtype=torch.float64)
    sketch = CountSketch(CountSketchOptions.for_guarantee(2, 0.5, 1e-3, n, cols))
    sketch.add(x[:120], 0)
    sketch.add(x[120:], 120)
    assert torch.equal(sketch.decode(2, n).dense(n), x)
    assert sketch.table.shape == (sketch.options.rows, sketch.options.buckets, cols)
    single = CountSketch(CountSketchOptions(5, 16, cols, seed=9))
    single.add(x[77:78], 77)
    assert torch.equal(single.estimate(77, 1), x[77:78])

    d = 4
    q, k, v = tokens(40, d, 1.0, seed=4)
    options = CountSketchOptions(5, 64, d, seed=1)
    att = StreamingAttention(d, output_sketch=options)
    out = att.causal(q, k, v)
    twin = CountSketch(options)
    twin.add(out, 0)
    assert torch.allclose(att.output_sketch.table, twin.table, rtol=0, atol=1e-12)
    decoded = att.decode(3)
    assert decoded.indices.shape == (3, d) and torch.allclose(decoded.values, twin.decode(3, 40).values, atol=1e-12)


def test_bad_input_raises_value_errors_that_name_the_problem():
    att = StreamingAttention(4)
    with pytest.raises(ValueError, match="before any key"):
        att.query(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="above entry_bound"):
        att.push(torch.full((2, 4), 1.5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"pass \[m, 4\]"):
        att.push(torch.zeros(2, 5), torch.zeros(2, 5))
    bad = torch.zeros(3, 4)
    bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN or Inf"):
        att.push(bad, torch.zeros(3, 4))
    with pytest.raises(ValueError, match="needs an output sketch"):
        att.decode(1)
    with pytest.raises(ValueError, match="max_state_bytes"):
        StreamingAttention(64, max_rel_error=1e-6, max_state_bytes=1 << 20)
    with pytest.raises(ValueError, match=r"\[-50, 50\]: degree 3 only guarantees"):
        ExpPolynomial(50.0, degree=3)
    with pytest.raises(ValueError, match="degree must be >= 1"):
        ExpPolynomial(1.0, degree=0)
    with pytest.raises(ValueError, match="lower d or the degree"):
        PolynomialFeatures(10**6, 1.0, ExpPolynomial(1.0, degree=5))
    with pytest.raises(ValueError, match=r"rows \[n, 3\]"):
        PolynomialFeatures(3, 1.0, ExpPolynomial(1.0)).phi1(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="columns = d = 4"):
        StreamingAttention(4, output_sketch=CountSketchOptions(3, 8, 5))
    with pytest.raises(ValueError, match="NaN or Inf"):
        CountSketch(CountSketchOptions(3, 8, 2)).add(torch.tensor([[1.0, float("inf")]]), 0)
