"""One rank of test_distributed.py: lmlab's layers and ops inside DistributedDataParallel (gloo).

A model of a 1-bit layer (lmlab.onebit.BitLinear), flash attention (lmlab.attention.flash_attention)
and a C++-owned NTK-Attention layer (lmlab.attention.NtkAttention) trains for a few SGD steps under DDP, each
rank on its half of the same global batch. Every rank also trains the same model alone on the whole
batch (no DDP) and checks that both end with the same parameters, and that the ranks agree exactly.
Prints "rank R: ok" on success, raises otherwise.
"""
import torch
import torch.distributed as dist

from lmlab import onebit
from lmlab.attention import NtkAttention, flash_attention

HEADS, HEAD_DIM, TOKENS, BATCH, STEPS = 2, 8, 6, 8, 4


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        width = HEADS * HEAD_DIM
        self.qkv = onebit.BitLinear(width, 3 * width, quant="ternary")
        self.ntk = NtkAttention(HEADS, HEAD_DIM, kappa_init=0.05, z_init_std=0.02)
        self.out = torch.nn.Linear(width, 1)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, HEADS, HEAD_DIM).permute(2, 0, 3, 1, 4)
        h = flash_attention(q, k, v, causal=True) + self.ntk(q, k, v, causal=True)
        return self.out(h.transpose(1, 2).reshape(b, t, -1)).mean(dim=(1, 2))


def train(model, x, y, params):
    opt = torch.optim.SGD(params, lr=0.05)
    for _ in range(STEPS):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    x = torch.randn(BATCH, TOKENS, HEADS * HEAD_DIM)
    y = torch.randn(BATCH)
    torch.manual_seed(1 + rank)  # DDP must start every replica from rank 0's parameters
    model = Net()
    torch.manual_seed(1)
    alone = Net()
    train(alone, x, y, alone.parameters())

    ddp = torch.nn.parallel.DistributedDataParallel(model)
    share = BATCH // world
    train(ddp, x[rank * share:(rank + 1) * share], y[rank * share:(rank + 1) * share], ddp.parameters())

    for (name, p), q in zip(model.named_parameters(), alone.parameters()):
        err = (p - q).abs().max().item() / (q.abs().max().item() + 1e-12)
        assert err < 1e-5, f"rank {rank}: {name} differs from one process by {err:.3g} (relative)"
        gathered = [torch.empty_like(p) for _ in range(world)]
        dist.all_gather(gathered, p.detach())
        assert all(torch.equal(g, gathered[0]) for g in gathered), f"{name} differs across ranks"
    dist.barrier()
    print(f"rank {rank}: ok", flush=True)


if __name__ == "__main__":
    main()
