"""foundation.text_gpt training steps per second in Python PyTorch: the peer of bench/train_bench.cpp.

Does the same work as the C++ bench: foundation.text_gpt's model and optimizer settings read from
experiments/foundation/text_gpt.toml; the model is tools/golden/models_gpt.py's GPT (PyTorch's own modules
arranged as lmlab's GPT, the reference lmlab's GPT is tested equal to), with GPT-2 initial weights
N(0, 0.02^2) and zero biases (the residual-projection scaling is left out: weights do not change the
work); one step samples B windows of T+1 tokens from a random byte stream, runs forward,
cross-entropy (read back with .item(), as lm_loss does), zero_grad, backward and an AdamW step at
the scheduled learning rate (lmlab's lm_learning_rate).

Checks the step as the C++ bench does (initial loss ln 256 within 0.1 nats; twenty steps on one
batch lower it), then per thread count: two warm-up steps, a step count chosen so a run lasts about
--min-time seconds (as Google Benchmark chooses iterations), --repeats timed runs, wall clock.
Prints JSON with the median steps/s per thread count, also written to --out when given.
Run: /usr/bin/python3 bench/peers/train_peer.py [--threads 1 2] [--repeats 5] [--min-time 2]
"""
import math
import os
import statistics
import sys
import time
import tomllib

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))
from models_gpt import GPT  # noqa: E402  (the golden reference model, not a copy)
from peer_output import emit, parse_args  # noqa: E402

SEED = 1234
STREAM_TOKENS = 1 << 16
WARMUP_STEPS = 2


def text_gpt_settings():
    with open(os.path.join(ROOT, "experiments", "foundation", "text_gpt.toml"), "rb") as f:
        cfg = tomllib.load(f)
    model, train = cfg["model"], cfg["train"]
    if not model["tied_head"]:
        sys.exit("train_peer: text_gpt.toml sets tied_head = false; the golden GPT has a tied head only")
    keys = ("context", "layers", "heads", "width")
    return {"model": dict({k: model[k] for k in keys}, vocab=256, mlp_ratio=4),  # GPTOptions defaults
            "batch": train["batch"], "lr": train["lr"], "weight_decay": train["weight_decay"],
            "warmup": train["warmup"], "steps": train["steps"]}


def learning_rate(s, step):
    """lmlab's lm_learning_rate: linear warm-up, then cosine decay to lr / 10 at s["steps"]."""
    if step <= s["warmup"]:
        return s["lr"] * step / max(1, s["warmup"])
    progress = min(1.0, (step - s["warmup"]) / max(1, s["steps"] - s["warmup"]))
    return s["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


class Trainer:
    """A foundation.text_gpt model with its optimizer and a batch sampler over a random byte stream."""

    def __init__(self, s):
        self.s = s
        torch.manual_seed(SEED)
        self.model = GPT(s["model"])
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                if p.dim() >= 2:
                    p.normal_(0.0, 0.02)
                elif name.endswith("bias"):
                    p.zero_()
        self.steps_done = 0
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
        self.gen = torch.Generator().manual_seed(SEED)
        stream = torch.randint(0, 256, (STREAM_TOKENS,), generator=self.gen)
        self.windows = stream.unfold(0, s["model"]["context"] + 1, 1)

    def sample(self):
        """B windows with uniform starts, as lmlab's TextBatcher::sample: x, y [B,T]."""
        t = self.s["model"]["context"]
        starts = torch.randint(0, STREAM_TOKENS - t, (self.s["batch"],), generator=self.gen)
        w = self.windows.index_select(0, starts)
        return w[:, :t].contiguous(), w[:, 1:].contiguous()

    def step(self, x, y):
        """One training step at the scheduled learning rate; returns the loss before the update in
        mean nats per token."""
        self.steps_done += 1
        for group in self.opt.param_groups:
            group["lr"] = learning_rate(self.s, self.steps_done)
        logits = self.model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        nats = loss.item()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return nats


def check_step(s):
    """Exits unless the step starts at ln 256 and learns (the C++ bench's check)."""
    trainer = Trainer(s)
    x, y = trainer.sample()
    first = last = trainer.step(x, y)
    for _ in range(20):
        last = trainer.step(x, y)
    if not abs(first - math.log(256)) < 0.1:
        sys.exit(f"train_peer: initial loss {first} nats is not ln 256 = {math.log(256)} within 0.1")
    if not (math.isfinite(last) and last < first):
        sys.exit(f"train_peer: loss went from {first} to {last} nats in twenty steps on one batch")


def time_steps(trainer, n):
    """Wall-clock seconds for n training steps on fresh batches."""
    start = time.perf_counter()
    for _ in range(n):
        trainer.step(*trainer.sample())
    return time.perf_counter() - start


def measure(s, threads, repeats, min_time):
    """Median steps/s over `repeats` timed runs of a step count that lasts about min_time s."""
    torch.set_num_threads(threads)
    trainer = Trainer(s)
    warmup_s = time_steps(trainer, WARMUP_STEPS)
    steps = max(1, math.ceil(min_time * WARMUP_STEPS / warmup_s))
    rates = [steps / time_steps(trainer, steps) for _ in range(repeats)]
    tokens = s["batch"] * s["model"]["context"]
    return {"name": "text_gpt_train_step", "threads": torch.get_num_threads(),
            "steps_per_run": steps, "steps_per_second": rates,
            "steps_per_second_median": statistics.median(rates),
            "tokens_per_second_median": statistics.median(rates) * tokens}


def main():
    args = parse_args(__doc__)
    s = text_gpt_settings()
    check_step(s)
    parameters = sum(p.numel() for p in Trainer(s).model.parameters())
    emit("train_peer.py", args, [measure(s, t, args.repeats, args.min_time) for t in args.threads],
         settings=s, parameters=parameters, min_time_s=args.min_time)

if __name__ == "__main__":
    main()
