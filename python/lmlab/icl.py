"""In-context learning (P9, arXiv 2310.03331; docs/icl.md): prompts for in-context linear
regression, their biased variants, the reference estimators, the trained in-context learner
(load a checkpoint, predict, train) and the two ways to reweight its examples, RICL and LARICL.
The math is lmlab's C++ (lmlab/icl/).

Shapes: xs [B, N, d], ys [B, N]; a learner predicts ys[:, i] from the i examples before point i,
so the last point is the query of a prompt with K = N - 1 examples. Example weights are [K].

    xs, ys, ws = regression_prompts(dim=5, points=11, batch=64, seed=0)
    learner = Learner.load("runs/icl/checkpoints/<hash>.pt")
    yhat = learner.predict(xs, ys)                        # [B, N]
    weights, losses = ricl(learner, val_xs, val_ys)       # [K], the fitting loss per step
    weights = laricl(learner, val_xs, val_ys)             # [K], closed form

Errors: bad arguments raise ValueError (the CLI's exit 2); missing, corrupt or foreign checkpoint
files raise OSError (exit 3).
"""
import torch

from . import _lmlab

__all__ = ["Learner", "averaging", "bias_prompts", "label_skewed_prompts", "laricl", "least_squares",
           "linear_attention", "nearest_neighbours", "optimal_linear_attention_weights", "regression_prompts",
           "ricl", "ridge"]


def regression_prompts(dim, points, batch, noise_std=0.0, active_dim=0, seed=0):
    """(xs [B,N,d], ys [B,N], ws [B,d]): x, w ~ N(0, I_d), y = <w, x> + noise_std e (float32)."""
    return _lmlab.icl_regression_prompts(dim, points, batch, noise_std, active_dim, seed)


def bias_prompts(xs, ys, ws, kind, strength, corrupt_std=1.0, seed=0):
    """The prompts with their contexts biased (kind: shift, imbalance, corrupt_y, duplicate, none);
    the query (last point) is kept."""
    return _lmlab.icl_bias_prompts(xs, ys, ws, kind, strength, corrupt_std, seed)


def label_skewed_prompts(dim, points, batch, positive_share, seed=0):
    """Classification prompts, y = sign<w, x>, a share positive_share of context labels +1."""
    return _lmlab.icl_label_skewed_prompts(dim, points, batch, positive_share, seed)


def least_squares(xs, ys):
    """Minimum-norm least-squares prediction at every point from the examples before it, [B,N]."""
    return _lmlab.icl_least_squares(xs, ys)


def ridge(xs, ys, lam):
    return _lmlab.icl_ridge(xs, ys, lam)


def nearest_neighbours(xs, ys, neighbours=3):
    return _lmlab.icl_nearest_neighbours(xs, ys, neighbours)


def averaging(xs, ys):
    return _lmlab.icl_averaging(xs, ys)


def linear_attention(xs, ys, weights):
    """The linear-attention learner's query prediction x_q^T (1/K) sum_i w_i y_i x_i, [B]."""
    return _lmlab.icl_linear_attention(xs, ys, weights)


def optimal_linear_attention_weights(dim, noise_variance):
    """Its optimal weights [K] under per-position noise variances [K] (K/(K+d+1) when clean)."""
    return _lmlab.icl_optimal_linear_attention_weights(dim, torch.as_tensor(noise_variance, dtype=torch.float64))


class Learner:
    """The in-context learner: read-in, GPT blocks, read-out (lmlab/icl/learner.h)."""

    def __init__(self, dim, points, layers=2, heads=2, width=64, mlp_ratio=4, seed=0, _cpp=None):
        self._cpp = _cpp if _cpp is not None else _lmlab.IclLearner(dim, points, layers, heads, width, mlp_ratio, seed)

    @classmethod
    def load(cls, path):
        """The learner stored at `path` (saved by save() or cached by the icl experiments)."""
        return cls(0, 0, _cpp=_lmlab.IclLearner.load(str(path)))

    def save(self, path):
        self._cpp.save(str(path))

    @property
    def options(self):
        return dict(self._cpp.options)

    def parameters(self):
        return self._cpp.parameters()

    def train(self, steps, batch=64, lr=1e-3, noise_std=0.0, dim_start=0, points_start=0, interval=2000, seed=0):
        """Curriculum training on fresh prompts (0 starts: full size from step 0); the loss per step."""
        return self._cpp.train_learner(steps, batch, lr, noise_std, dim_start, points_start, interval, seed)

    def predict(self, xs, ys, weights=None):
        """Predictions [B,N] (eval mode, no gradients); weights [K] or [B,K] scale example embeddings."""
        self._cpp.set_training(False)
        with torch.no_grad():
            return self._cpp.forward(xs, ys, weights)

    def __call__(self, xs, ys, weights=None):
        """The differentiable forward, [B,N]."""
        return self._cpp.forward(xs, ys, weights)


def _cpp_of(learner):
    return None if learner is None else learner._cpp


def ricl(learner, xs, ys, steps=300, lr=0.02, batch=0, seed=0):
    """RICL: per-position weights [K] (float64) minimising the query error on validation prompts
    (biased contexts, clean query targets ys[:, -1]) by Adam; learner None = linear attention.
    Returns (weights, losses per step)."""
    weights, losses, _ = _lmlab.icl_ricl(_cpp_of(learner), xs, ys, steps, lr, batch, seed)
    return weights, losses


def tune(learner, method, xs, ys, steps=200, lr=1e-3, batch=0, seed=0):
    """The tuning baselines on the same validation prompts as RICL: method "full" (fine-tuning every
    parameter of a copy) or "prefix:M" (P-Tuning v2, M learned key/value vectors per head and layer,
    the copy's weights frozen). Returns (tuned Learner, losses per step, trained parameters); the
    given learner is unchanged."""
    cpp, losses, trained = _lmlab.icl_tune(learner._cpp, method, xs, ys, steps, lr, batch, seed)
    return Learner(0, 0, _cpp=cpp), losses, trained


def laricl(learner, xs, ys, ridge=1e-3):
    """LARICL: the weights [K] (float64) from one ridge solve on the predictor linearised at w = 1."""
    weights, _, _ = _lmlab.icl_laricl(_cpp_of(learner), xs, ys, ridge)
    return weights
