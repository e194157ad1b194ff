"""The copyright-protected training step in plain Python PyTorch: the peer of bench/copyright_bench.cpp.

Same work: copyright.lm's model and training settings (experiments/copyright/lm.toml), the model
tools/golden/models_gpt.py's GPT (lmlab's GPT written with PyTorch's modules), a random byte
stream of 256 documents of 200 bytes each preceded by "\\n%\\n", every fifth marked copyrighted;
one step samples B windows of T+1 tokens with the mask of their targets, forward,
loss = CE(all) + gamma / max(CE(copyrighted), 0.01) (gamma 0 for protected:0, 0.5 for
protected:1), zero_grad, backward, AdamW step at the scheduled learning rate.
Run: /usr/bin/python3 bench/peers/copyright_peer.py [--threads 1 2] [--repeats 5] [--min-time 2]
"""
import math
import os
import sys
import tomllib

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models_gpt import GPT  # noqa: E402
from peer_output import emit, entry, parse_args, timed, wanted  # noqa: E402
from train_peer import learning_rate  # noqa: E402

SEED, DOCUMENTS, DOCUMENT_BYTES, GAMMA, FLOOR = 1234, 256, 200, 0.5, 0.01


def settings():
    with open(os.path.join(ROOT, "experiments", "copyright", "lm.toml"), "rb") as f:
        cfg = tomllib.load(f)
    m, t = cfg["model"], cfg["train"]
    return {"model": {"vocab": 256, "mlp_ratio": 4, **{k: m[k] for k in ("context", "layers", "heads", "width")}},
            **{k: t[k] for k in ("batch", "lr", "weight_decay", "warmup", "steps")}}




class Trainer:
    def __init__(self, s, gamma):
        self.s, self.gamma, self.steps_done = s, gamma, 0
        torch.manual_seed(SEED)
        self.model = GPT(s["model"])
        with torch.no_grad():
            for name, p in self.model.named_parameters():
                p.normal_(0.0, 0.02) if p.dim() >= 2 else (p.zero_() if name.endswith("bias") else None)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
        self.gen = torch.Generator().manual_seed(SEED)
        docs = torch.randint(1, 256, (DOCUMENTS, DOCUMENT_BYTES), generator=self.gen)
        sep = torch.tensor(list(b"\n%\n")).expand(DOCUMENTS, 3)
        self.tokens = torch.cat([sep, docs], 1).reshape(-1)
        marks = (torch.arange(DOCUMENTS) % 5 == 0).unsqueeze(1)
        self.mask = torch.cat([torch.zeros(DOCUMENTS, 3, dtype=torch.bool), marks.expand(DOCUMENTS, DOCUMENT_BYTES)],
                              1).reshape(-1)

    def step(self):
        t, n = self.s["model"]["context"], self.tokens.numel()
        starts = torch.randint(0, n - t, (self.s["batch"],), generator=self.gen)
        idx = starts.unsqueeze(1) + torch.arange(t + 1).unsqueeze(0)
        w, cp = self.tokens[idx], self.mask[idx[:, 1:]]
        self.steps_done += 1
        for group in self.opt.param_groups:
            group["lr"] = learning_rate(self.s, self.steps_done)
        logits = self.model(w[:, :-1])
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="none")
        loss = nll.mean()
        if self.gamma > 0 and cp.any():
            loss = loss + self.gamma / nll[cp.reshape(-1)].mean().clamp_min(FLOOR)
        value = loss.item()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return value


def measure(args, s, threads):
    torch.set_num_threads(threads)
    out = []
    for protected in (0, 1):
        name = f"copyright_train_step/protected:{protected}"
        if wanted(args, name):
            trainer = Trainer(s, GAMMA if protected else 0.0)
            out.append(entry(name, timed(trainer.step, args.repeats, args.min_time)))
    return out


def main():
    args = parse_args(__doc__)
    s = settings()
    first = Trainer(s, 0.0).step()
    if not abs(first - math.log(256)) < 0.1:
        sys.exit(f"copyright_peer: initial loss {first} nats is not ln 256 within 0.1")
    parameters = sum(p.numel() for p in Trainer(s, 0.0).model.parameters())
    emit("copyright_peer.py", args, [b for t in args.threads for b in measure(args, s, t)], parameters=parameters)


if __name__ == "__main__":
    main()
