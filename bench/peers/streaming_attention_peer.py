"""One-pass streaming attention in Python PyTorch: the peer of bench/streaming_attention_bench.cpp.

The same work as the C++ cases (lmlab/streaming_attention/streaming_attention.h): scores exp(<q,k>/d), entries uniform
in [-1.5, 1.5] (R = 2.25), exp replaced by its degree-8 Chebyshev interpolant on [-R, R] in monomial
form, features phi2(k) = the monomials k^alpha (|alpha| <= 8; t = 495 for d = 4, 12870 for d = 8,
built block by block as PyTorch code naturally would: x_i times the suffix of the previous degree),
phi1(q) = phi2(q) * a_|alpha| c^|alpha| |alpha|!/alpha!, all float64:
  streaming_push    S^T += [V | 1]^T Phi2 over 4096 tokens, in chunks of 2^20 / t tokens
  streaming_query   T~ = (Phi1 S) / (Phi1 z) for 4096 queries against a state of 4096 keys
  streaming_causal  4096 tokens from an empty state in chunks of 32: in-chunk masked Phi1 Phi2^T plus the state
"steps_per_second" are tokens per second, as the C++ bench's items_per_second. Checked before
timing: <phi1(q), phi2(k)> = P(<q,k>/d) to 1e-9, push + query within the bound 2 delta/(1-delta)
max|v| of exact softmax attention (delta the interpolant's relative error bound, computed as in
src/streaming_attention/exp_polynomial.cpp), causal equal to the masked batch formula.
Per thread count: two warm-up calls, a call count chosen so a run lasts about --min-time seconds,
--repeats timed runs, wall clock.
Run: /usr/bin/python3 bench/peers/streaming_attention_peer.py [--threads 1 2] [--repeats 5] [--min-time 2]
"""
import math
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_output import emit, parse_args, timed  # noqa: E402

BOUND, DEGREE, TOKENS, CAUSAL_CHUNK, CHUNK_ELEMENTS = 1.5, 8, 4096, 32, 1 << 20
MODES = ["streaming_push", "streaming_query", "streaming_causal"]


def exp_polynomial(radius, degree):
    """Monomial coefficients of the Chebyshev interpolant of exp at the degree+1 nodes of [-R, R]."""
    n = degree + 1
    theta = [math.pi * (k + 0.5) / n for k in range(n)]
    cheb = [sum(math.exp(radius * math.cos(t)) * math.cos(j * t) for t in theta) * (1 if j == 0 else 2) / n
            for j in range(n)]
    in_u = [0.0] * n
    t_prev, t_cur = [1.0] + [0.0] * (n - 1), [0.0, 1.0] + [0.0] * (n - 2)
    for j in range(n):
        tj = t_prev if j == 0 else t_cur
        in_u = [a + cheb[j] * b for a, b in zip(in_u, tj)]
        if 1 <= j < n - 1:
            t_next = [(2 * t_cur[m - 1] if m > 0 else 0.0) - t_prev[m] for m in range(n)]
            t_prev, t_cur = t_cur, t_next
    return [a / radius ** m for m, a in enumerate(in_u)]


def rel_error_bound(radius, degree):
    """delta = 4 e^R sum_{j > g} I_j(R) (the bound of include/lmlab/streaming_attention/exp_polynomial.h)."""
    def bessel_i(j, x):
        return sum((x / 2) ** (2 * m + j) / (math.factorial(m) * math.factorial(m + j)) for m in range(40))
    return 4 * math.exp(radius) * sum(bessel_i(j, radius) for j in range(degree + 1, degree + 40))


class Features:
    """Monomials of degree <= g in d variables, ordered by degree, then smallest index (as lmlab)."""

    def __init__(self, d, degree, scale, coefficients):
        self.d, self.degree = d, degree
        levels = [[[0] * d]]     # exponent vectors per degree
        self.starts = [[0] * d]  # per degree: offset of the block of smallest index i (degree 0: 1)
        for m in range(1, degree + 1):
            level, starts = [], []
            for i in range(d):
                starts.append(len(level))
                for e in levels[-1][self.starts[m - 1][i]:]:
                    level.append([x + (j == i) for j, x in enumerate(e)])
            levels.append(level)
            self.starts.append(starts)
        exponents = [e for level in levels for e in level]
        self.t = len(exponents)
        multinomial = [math.factorial(sum(e)) // math.prod(math.factorial(x) for x in e) for e in exponents]
        self.weights = torch.tensor([coefficients[sum(e)] * scale ** sum(e) * c for e, c in zip(exponents, multinomial)],
                                    dtype=torch.float64)

    def monomials(self, x):
        levels = [torch.ones(x.shape[0], 1, dtype=torch.float64)]
        for m in range(1, self.degree + 1):
            prev = levels[-1]
            levels.append(torch.cat([x[:, i:i + 1] * prev[:, self.starts[m - 1][i]:] for i in range(self.d)], 1))
        return torch.cat(levels, 1)

    def phi1(self, q):
        return self.monomials(q) * self.weights

    def phi2(self, k):
        return self.monomials(k)


def make_features(d):
    scale = 1.0 / d
    radius = scale * d * BOUND * BOUND
    return Features(d, DEGREE, scale, exp_polynomial(radius, DEGREE)), rel_error_bound(radius, DEGREE)


class Streaming:
    def __init__(self, f):
        self.f = f
        self.state = torch.zeros(f.d + 1, f.t, dtype=torch.float64)  # [S | z]^T
        self.chunk = max(1, CHUNK_ELEMENTS // f.t)

    def push(self, k, v):
        va = torch.cat([v, torch.ones(v.shape[0], 1, dtype=torch.float64)], 1)
        for b in range(0, k.shape[0], self.chunk):
            self.state.addmm_(va[b:b + self.chunk].t(), self.f.phi2(k[b:b + self.chunk]))

    def query(self, q):
        parts = []
        for b in range(0, q.shape[0], self.chunk):
            nd = self.state.mm(self.f.phi1(q[b:b + self.chunk]).t()).t()
            parts.append(nd[:, :-1] / nd[:, -1:])
        return torch.cat(parts)

    def causal(self, q, k, v):
        va = torch.cat([v, torch.ones(v.shape[0], 1, dtype=torch.float64)], 1)
        parts = []
        for b in range(0, q.shape[0], CAUSAL_CHUNK):
            p1, p2, vb = self.f.phi1(q[b:b + CAUSAL_CHUNK]), self.f.phi2(k[b:b + CAUSAL_CHUNK]), va[b:b + CAUSAL_CHUNK]
            sums = p1.mm(self.state.t()).addmm_(p1.mm(p2.t()).tril_(), vb)
            self.state.addmm_(vb.t(), p2)
            parts.append(sums[:, :-1] / sums[:, -1:])
        return torch.cat(parts)


def tokens(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g, dtype=torch.float64) * 2 - 1) * BOUND


def check():
    for d in (4, 8):
        f, delta = make_features(d)
        q, k, v = tokens(300, d, 6), tokens(300, d, 7), tokens(300, d, 8)
        coefficients = exp_polynomial(BOUND * BOUND, DEGREE)
        s = (q * k).sum(1) / d
        p = sum(a * s ** m for m, a in enumerate(coefficients))
        identity = ((f.phi1(q) * f.phi2(k)).sum(1) / p - 1).abs().max().item()
        st = Streaming(f)
        st.push(k, v)
        w = (q.mm(k.t()) / d).exp()
        to_exact = (st.query(q) - w.mm(v) / w.sum(1, keepdim=True)).abs().max().item()
        a = f.phi1(q).mm(f.phi2(k).t()).tril()
        to_causal = (Streaming(f).causal(q, k, v) - a.mm(v) / a.sum(1, keepdim=True)).abs().max().item()
        bound = 2 * delta / (1 - delta) * v.abs().max().item()
        if not (identity < 1e-9 and to_exact <= bound and to_causal < 1e-10):
            sys.exit(f"streaming_attention_peer: d = {d} is off: identity {identity}, exact {to_exact} (bound {bound}), "
                     f"causal {to_causal}")


def measure(threads, repeats, min_time):
    torch.set_num_threads(threads)
    out = []
    with torch.no_grad():
        for mode, name in enumerate(MODES):
            for d in (4, 8):
                f, _ = make_features(d)
                q, k, v = tokens(TOKENS, d, 1), tokens(TOKENS, d, 2), tokens(TOKENS, d, 3)
                st = Streaming(f)
                st.push(k, v)
                fn = {0: lambda: st.push(k, v), 1: lambda: st.query(q),
                      2: lambda: Streaming(f).causal(q, k, v)}[mode]
                rates = [r * TOKENS for r in timed(fn, repeats, min_time)]
                out.append({"name": f"{name}/mode:{mode}/d:{d}", "threads": torch.get_num_threads(),
                            "steps_per_second": rates, "steps_per_second_median": statistics.median(rates),
                            "features": f.t})
    return out


def main():
    args = parse_args(__doc__)
    check()
    emit("streaming_attention_peer.py", args, [b for t in args.threads for b in measure(t, args.repeats, args.min_time)],
         unit="tokens per second")


if __name__ == "__main__":
    main()
