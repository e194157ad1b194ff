"""One-pass streaming attention in sublinear space, its polynomial method and output sketch (P5;
lmlab/streaming_attention/{streaming_attention,exp_polynomial,polynomial_features,count_sketch}.h). Everything here runs in float64 without
autograd: the state is a running sum, not a differentiable layer."""
from . import _lmlab


def exp_interpolation_error_bound(degree, radius):
    """delta(g, R) = 4 e^R sum_{j>g} I_j(R): |P(x) - e^x| <= delta e^x on [-R, R] for the degree-g
    Chebyshev interpolant P of exp."""
    return _lmlab.attention_exp_interpolation_error_bound(degree, radius)


def polynomial_feature_dim(dim, degree):
    """t = C(dim + degree, degree), the number of polynomial features (saturates at 2^63 - 1)."""
    return _lmlab.attention_polynomial_feature_dim(dim, degree)


class ExpPolynomial(_lmlab.AttentionExpPolynomial):
    """P ~ exp on [-radius, radius]: the Chebyshev interpolant, in monomial coefficients.

    degree=None picks the smallest degree (up to max_degree) whose bound meets max_rel_error; a given
    degree is refused (ValueError) when its bound exceeds max_rel_error. Properties: degree, radius,
    rel_error_bound (delta), coefficients (a_0..a_g); calling it evaluates P elementwise in float64.
    """

    def __init__(self, radius, degree=None, max_rel_error=1e-3, max_degree=30):
        if degree is not None and degree < 1:
            raise ValueError(f"ExpPolynomial degree must be >= 1 (None: automatic); got {degree}")
        super().__init__(radius, degree or 0, max_rel_error, max_degree)


class PolynomialFeatures(_lmlab.AttentionPolynomialFeatures):
    """Exact feature maps of P(scale <q, k>): <phi1(q), phi2(k)> = P(scale <q, k>).

    phi2(k) [n, t] holds the monomials k^alpha, |alpha| <= g; phi1(q) weighs them by
    a_|alpha| scale^|alpha| |alpha|!/alpha! (property weights [t]); rows [n, dim] in, float64 out.
    Built as PolynomialFeatures(dim, scale, ExpPolynomial(...)).
    """


class CountSketchOptions(_lmlab.AttentionCountSketchOptions):
    """Sizes of a CountSketch: rows r (odd r makes the median one estimate), buckets b per row, columns D
    of each sketched row, hash seed. CountSketchOptions.for_guarantee(k, eps, failure, universe, columns)
    gives sizes with ||x_c - y_c||_2 <= (1 + eps) min_{k-sparse y'} ||x_c - y'||_2 for every column c
    with probability >= 1 - failure."""

    def __init__(self, rows, buckets, columns, seed=0):
        super().__init__(rows, buckets, columns, seed)


class CountSketch(_lmlab.AttentionCountSketch):
    """CountSketch of rows streamed by index, with a k-sparse per-column decoder.

    add(rows [m, D], first_index); estimate(first_index, m) -> the median estimates [m, D];
    decode(k, universe) -> the k largest estimates of each column over rows [0, universe):
    .indices [k, D] int64, .values [k, D] float64, .dense(n) the n x D matrix. table: Y [r, b, D].
    Built as CountSketch(CountSketchOptions(...)).
    """


class StreamingAttention(_lmlab.AttentionStreaming):
    """One-pass softmax attention with exp replaced by a polynomial P, in O(t d) memory for any number
    of tokens (t = C(d + g, g) features of degree g):

        T~(q) = phi1(q)^T S / phi1(q)^T z,   S = sum_j phi2(k_j) v_j^T,   z = sum_j phi2(k_j).

    dim: d; entry_bound: B, every entry of q and k within [-B, B] (checked; scores |s| <= R = scale d B^2);
    scale: c in s = c <q, k> (None: 1/d); degree: g (None: the smallest meeting max_rel_error);
    max_state_bytes: refuse larger states; chunk: tokens per feature chunk (0: automatic);
    output_sketch: CountSketchOptions with columns = d to sketch every answered row.

    push(k, v) adds keys [m, d]; query(q) [m, d] answers against all keys pushed so far; causal(q, k, v)
    pushes and answers token by token (query i sees keys 0..i). decode(k) gives the k-sparse decoding
    of the sketched outputs. ||T~(q) - softmax attention||_inf <= output_error_bound. Properties:
    tokens, queries, state_bytes, state [d + 1, t] (a copy), features (PolynomialFeatures),
    score_radius, max_abs_value, output_sketch. Results in q's dtype, computed in float64.
    """

    def __init__(self, dim, entry_bound=1.0, scale=None, degree=None, max_rel_error=1e-3, max_degree=30,
                 max_state_bytes=1 << 30, chunk=0, output_sketch=None):
        if scale is not None and not scale > 0:
            raise ValueError(f"StreamingAttention scale must be > 0 (None: 1/d); got {scale}")
        if degree is not None and degree < 1:
            raise ValueError(f"StreamingAttention degree must be >= 1 (None: automatic); got {degree}")
        super().__init__(dim, entry_bound, scale or 0.0, degree or 0, max_rel_error, max_degree, max_state_bytes,
                         chunk, output_sketch)
