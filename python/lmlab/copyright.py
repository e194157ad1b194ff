"""Copyright-protected training (P10, arXiv 2308.12247), the math in lmlab's C++ (lmlab/copyright/;
docs/copyright.md has the objective, the guards and what we measured).

    loss = protected_loss(logits, targets, copyrighted_mask, gamma)   # CE(all) + gamma / CE(copyrighted)
    SoftmaxRegression(a, b, copyrighted, gamma=...).solve("newton")   # the theory object, float64
    extraction_audit(model, texts)                                    # greedy verbatim extraction

protected_loss drops into a PyTorch training loop: the mask marks the target tokens that belong to
copyrighted documents, and the gradient reaches whatever produced the logits.
"""
import torch

from . import _lmlab

__all__ = ["SoftmaxRegression", "extraction_audit", "longest_common_substring", "make_softmax_data",
           "protected_loss"]


def protected_loss(logits, targets, copyrighted_mask, gamma, ce_floor=1e-2, return_stats=False):
    """CE(all tokens) + gamma / max(CE(copyrighted tokens), ce_floor), in nats per token.

    logits [B, T, V] float, targets [B, T] int64, copyrighted_mask [B, T] bool (True where the
    target token belongs to a copyrighted document). Below ce_floor the gamma term is the constant
    gamma / ce_floor (no gradient); a batch without copyrighted tokens gives plain CE(all). With
    return_stats, returns (loss, dict of ce_all, ce_cp, tokens, copyrighted_tokens,
    has_copyrighted, floored). ValueError for gamma < 0, ce_floor <= 0, or bad shapes and dtypes.
    """
    loss, stats = _lmlab.copyright_protected_loss(logits, targets, copyrighted_mask, float(gamma), float(ce_floor))
    return (loss, stats) if return_stats else loss


def make_softmax_data(tasks=8, copyrighted=2, rows=16, dim=8, scale=2.0, noise=0.5, seed=0):
    """Synthetic tasks (A [K, N, D], b [K, N], copyrighted [K] bool) sharing a ground truth x*; the
    first `copyrighted` tasks are marked (lmlab/copyright/softmax_data.h)."""
    return _lmlab.copyright_make_softmax_data(tasks, copyrighted, rows, dim, scale, noise, seed)


class SoftmaxRegression:
    """F(x) = L_fit + gamma / max(L_cp, loss_floor) + lam/2 ||x||^2 with L_k = 1/2 ||softmax(A_k x) - b_k||^2,
    L_cp and L_rest the mean L_k over the copyrighted and the other tasks, L_fit = L_rest (or the
    mean over all tasks with fit_all). tau = L_cp - L_rest. float64 tensors."""

    def __init__(self, a, b, copyrighted, gamma=0.0, lam=1e-3, loss_floor=1e-8, fit_all=False):
        self._cpp = _lmlab.CopyrightSoftmaxRegression(a, b, copyrighted, float(gamma), float(lam),
                                                      float(loss_floor), bool(fit_all))

    @property
    def dim(self):
        return self._cpp.dim

    def evaluate(self, x, order=2):
        """dict of value, l_cp, l_rest, tau, floored, and the analytic grad (order >= 1) and hessian (order 2)."""
        return self._cpp.evaluate(x, order)

    def solve(self, method="newton", x0=None, max_iterations=None, tolerance=1e-8, initial_step=1.0):
        """Minimises F from x0 (default 0) by "newton" or "gd" (gradient descent), both with Armijo
        backtracking; returns evaluate()'s dict at the solution plus x, iterations, evaluations,
        converged, stalled, values and gradient_norms (per iterate)."""
        if x0 is None:
            x0 = torch.zeros(self.dim, dtype=torch.float64)
        if max_iterations is None:
            max_iterations = 100 if method == "newton" else 100000
        return self._cpp.solve(x0, method, int(max_iterations), float(tolerance), float(initial_step))


def longest_common_substring(a, b):
    """Length in bytes of the longest common contiguous substring of two str or bytes."""
    to_bytes = lambda s: s.encode() if isinstance(s, str) else bytes(s)
    return _lmlab.copyright_longest_common_substring(to_bytes(a), to_bytes(b))


def extraction_audit(model, texts, prefix=32, continuation=32, max_documents=64, separator="\n%\n", context=None):
    """Greedy verbatim-extraction audit of a byte-level language model (lmlab/copyright/extraction_audit.h).

    model(idx [B, T] int64) -> logits [B, T, 256]. For each text of at least prefix + continuation
    bytes (the first max_documents), the prompt separator + text[:prefix] is continued greedily by
    `continuation` tokens (feeding at most the last `context` tokens when given) and compared with
    text[prefix:prefix + continuation]. Returns a dict: documents, skipped, exact_match_rate,
    lcs_fraction (mean longest common substring / continuation) and examples (list of dicts with
    prefix, truth, continuation as bytes, lcs, exact).
    """
    if prefix < 1 or continuation < 1 or max_documents < 1:
        raise ValueError(f"prefix, continuation and max_documents must be >= 1; got {prefix}, {continuation}, "
                         f"{max_documents}")
    sep = separator.encode() if isinstance(separator, str) else bytes(separator)
    docs = [t.encode() if isinstance(t, str) else bytes(t) for t in texts]
    eligible = [d for d in docs if len(d) >= prefix + continuation]
    chosen = eligible[:max_documents]
    if not chosen:
        raise ValueError(f"none of the {len(docs)} documents has the {prefix + continuation} bytes prefix + "
                         "continuation needs; shorten them or pass longer documents")
    prompts = torch.tensor([list(sep + d[:prefix]) for d in chosen], dtype=torch.int64)
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    out = prompts
    with torch.no_grad():
        for _ in range(continuation):
            window = out if context is None else out[:, -context:]
            out = torch.cat([out, model(window)[:, -1].argmax(-1, keepdim=True)], 1)
    if was_training:
        model.train()
    examples = []
    for d, row in zip(chosen, out[:, prompts.shape[1]:].tolist()):
        cont, truth = bytes(row), d[prefix:prefix + continuation]
        examples.append({"prefix": d[:prefix], "truth": truth, "continuation": cont,
                         "lcs": longest_common_substring(cont, truth), "exact": cont == truth})
    n = len(examples)
    return {"documents": n, "skipped": len(docs) - len(eligible),
            "exact_match_rate": sum(e["exact"] for e in examples) / n,
            "lcs_fraction": sum(e["lcs"] for e in examples) / (n * continuation), "examples": examples}
