"""lmlab's attention ops called from Python (import lmlab) against their pure-PyTorch formulations.

Each case runs the same work both ways, checks that the results agree, then times both (medians of
--repeats runs of about --min-time seconds, wall clock) and prints a table of time ratios on stderr
(pytorch / lmlab: above 1, lmlab is faster) and the JSON of peer_output.py on stdout. The PyTorch
sides are the other peers' formulations where one exists:
  flash_forward      exact attention [1, 4, 4096, 64], not causal, forward (flash_attention_peer.sdpa: PyTorch
                     1.13's fastest CPU path)
  flash_train        the same at T = 2048, causal, forward + backward to q, k, v
  sparse_topk        top-k attention, T = S = 4096, D = 64, k = 64, forward (sparse_attention_peer.top_k)
  sparse_topk_train  the same at T = S = 2048, forward + backward to q, k, v
  k_eps              k_eps of scores [64, 4096] (softmax, sort, cumulative sum in float64)
  streaming_push     4096 tokens, d = 4, degree 8, entries in [-1.5, 1.5] (streaming_attention_peer.Streaming)
  streaming_query    4096 queries against that state
  streaming_causal   4096 tokens in one causal pass
  ntk_train          NTK-Attention [1, 8, 1024, 64] causal, forward + backward to q, k, v, Z, k
                     (ntk_attention_peer.ntk_attention)
  prefix_train       PrefixAttention, m = 256, same shapes (ntk_attention_peer.prefix_attention)
  lora_train         LoraLinear 1024 -> 1024, rank 8, frozen W and b, x [2048, 1024], forward + backward
                     (PyTorch: PEFT's order, W x + b + (B (A x)) * alpha / r)
Run (after building the module): PYTHONPATH=build/python /usr/bin/python3 bench/peers/python_ops_peer.py
  [--threads 1 2] [--repeats 5] [--min-time 0.25]
"""
import os
import sys

import torch
import torch.nn.functional as F

import lmlab
from lmlab import attention

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flash_attention_peer import sdpa as torch_sdpa  # noqa: E402
from ntk_attention_peer import ntk_attention as torch_ntk, prefix_attention as torch_prefix  # noqa: E402
from peer_output import emit, entry, parse_args, timed  # noqa: E402
from sparse_attention_peer import top_k as torch_top_k  # noqa: E402
from streaming_attention_peer import BOUND, DEGREE, make_features, Streaming, tokens  # noqa: E402


def torch_k_eps(scores, eps):
    mass = torch.softmax(scores.double(), -1).sort(-1, descending=True).values.cumsum(-1)
    return (mass < 1 - eps).sum(-1) + 1


def training(forward, wrt, g):
    """A step: the forward's output and the gradients of <output, g> with respect to wrt."""
    def step():
        out = forward()
        return (out,) + torch.autograd.grad([out], wrt, [g])
    return step


def flash_case(name):
    t, causal = (4096, False) if name == "flash_forward" else (2048, True)
    torch.manual_seed(t)
    q, k, v = (torch.randn(1, 4, t, 64, requires_grad=name == "flash_train") for _ in range(3))
    ours = lambda: attention.flash_attention(q, k, v, causal)  # noqa: E731
    theirs = lambda: torch_sdpa(q, k, v, causal)  # noqa: E731
    if name == "flash_forward":
        return ours, theirs
    g = torch.randn(1, 4, t, 64)
    return training(ours, (q, k, v), g), training(theirs, (q, k, v), g)


def sparse_case(name):
    t = 4096 if name == "sparse_topk" else 2048
    torch.manual_seed(t)
    q, k, v = (torch.randn(1, 1, t, 64, requires_grad=name != "sparse_topk") for _ in range(3))
    ours = lambda: attention.sparse_attention(q, k, v, top_k=64).out  # noqa: E731
    theirs = lambda: torch_top_k(q, k, v, 64)  # noqa: E731
    if name == "sparse_topk":
        return ours, theirs
    g = torch.randn(1, 1, t, 64)
    return training(ours, (q, k, v), g), training(theirs, (q, k, v), g)


def k_eps_case(name):
    scores = torch.randn(64, 4096, generator=torch.Generator().manual_seed(0)) * 3
    return (lambda: attention.k_eps_from_scores(scores, 0.1)), (lambda: torch_k_eps(scores, 0.1))


def streaming_case(name):
    d = 4
    q, k, v = tokens(4096, d, 1), tokens(4096, d, 2), tokens(4096, d, 3)
    new = lambda: attention.StreamingAttention(d, entry_bound=BOUND, degree=DEGREE, max_rel_error=1e-2)  # noqa: E731
    features = make_features(d)[0]
    if name == "streaming_causal":
        return (lambda: new().causal(q, k, v)), (lambda: Streaming(features).causal(q, k, v))
    ours, theirs = new(), Streaming(features)
    ours.push(k, v)
    theirs.push(k, v)
    if name == "streaming_push":  # returns the state [S | z]^T [d + 1, t] (same layout both ways)
        return (lambda: ours.push(k, v) or ours.state), (lambda: theirs.push(k, v) or theirs.state)
    return (lambda: ours.query(q)), (lambda: theirs.query(q))


def attention_train_case(name):
    torch.manual_seed(1)
    q, k, v = (torch.randn(1, 8, 1024, 64, requires_grad=True) for _ in range(3))
    g = torch.randn(1, 8, 1024, 64)
    if name == "ntk_train":
        z = (torch.randn(8, 64, 64) * 0.1).requires_grad_()
        kp = torch.full((8, 64), -4.6, requires_grad=True)
        wrt = (q, k, v, z, kp)
        ours = lambda: attention.ntk_attention(q, k, v, z, F.softplus(kp), True)  # noqa: E731
        theirs = lambda: torch_ntk(q, k, v, z, kp, True)  # noqa: E731
    else:
        layer = attention.PrefixAttention(8, 64, length=256)
        wrt = (q, k, v, layer.prefix_keys, layer.prefix_values)
        ours = lambda: layer(q, k, v, True)  # noqa: E731
        theirs = lambda: torch_prefix(q, k, v, layer.prefix_keys, layer.prefix_values, True)  # noqa: E731
    return training(ours, wrt, g), training(theirs, wrt, g)


def lora_case(name):
    torch.manual_seed(2)
    layer = attention.LoraLinear.from_linear(torch.nn.Linear(1024, 1024), rank=8)
    with torch.no_grad():
        layer.lora_B.normal_()
    x = torch.randn(2048, 1024)
    g = torch.randn(2048, 1024)
    # PEFT's LoRA Linear: result + lora_B(lora_A(x)) * scaling
    a, b = layer.lora_A, layer.lora_B
    theirs = lambda: F.linear(x, layer.weight, layer.bias) + (x @ a.T) @ b.T * layer.scaling  # noqa: E731
    return training(lambda: layer(x), (a, b), g), training(theirs, (a, b), g)


CASES = [("flash_forward", flash_case), ("flash_train", flash_case), ("sparse_topk", sparse_case), ("sparse_topk_train", sparse_case), ("k_eps", k_eps_case),
         ("streaming_push", streaming_case), ("streaming_query", streaming_case),
         ("streaming_causal", streaming_case), ("ntk_train", attention_train_case),
         ("prefix_train", attention_train_case), ("lora_train", lora_case)]


def agree(a, b):
    """Equal integers, or floats within 1e-4 of the larger magnitude (float32 sums in another order)."""
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    for x, y in zip(a, b):
        if not x.is_floating_point():
            if not torch.equal(x, y):
                return False
        elif not (x.double() - y.double()).abs().max().item() <= 1e-4 * max(1.0, y.abs().max().item()):
            return False
    return len(a) == len(b)


def measure(threads, repeats, min_time):
    torch.set_num_threads(threads)
    out = []
    for name, make in CASES:
        ours, theirs = make(name)
        if not agree(ours(), theirs()):
            sys.exit(f"python_ops_peer: {name}: lmlab and the PyTorch formulation disagree")
        for side, fn in (("lmlab", ours), ("pytorch", theirs)):
            out.append(entry(f"{name}/{side}", timed(fn, repeats, min_time), side=side))
    return out


def table(benchmarks):
    """Median ms per call of each side and their ratio pytorch / lmlab, by case and thread count."""
    rows = ["case                 threads   lmlab ms  pytorch ms  pytorch/lmlab"]
    median = {(b["name"], b["threads"]): 1e3 / b["steps_per_second_median"] for b in benchmarks}
    for b in benchmarks:
        if b["side"] == "lmlab":
            case = b["name"].rsplit("/", 1)[0]
            ours, theirs = median[(b["name"], b["threads"])], median[(f"{case}/pytorch", b["threads"])]
            rows.append(f"{case:<20} {b['threads']:>7} {ours:>10.3f} {theirs:>11.3f} {theirs / ours:>14.2f}")
    return "\n".join(rows)


def main():
    args = parse_args(__doc__, default_min_time=0.25)
    benchmarks = [b for t in args.threads for b in measure(t, args.repeats, args.min_time)]
    emit("python_ops_peer.py", args, benchmarks, lmlab=lmlab.__version__, simd=lmlab.simd_level(),
         min_time_s=args.min_time)
    print(table(benchmarks), file=sys.stderr)


if __name__ == "__main__":
    main()
