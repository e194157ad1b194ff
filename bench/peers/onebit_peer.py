"""fp32 and int8 linear layers and a GPT forward in Python PyTorch: the peer of bench/onebit_bench.cpp.

The same cases as the C++ bench's LibTorch paths (the packed 1-bit paths have no PyTorch
counterpart): y = x W^T + b with W [N x K] for the bench's shapes and B in {1, 8}, as
F.linear (fp32_linear), torch.addmv (fp32_mv, B = 1) and the dynamic-quantized int8 linear
(torch.ops.quantized.linear_dynamic on per-tensor absmax int8 weights, engines qnnpack and onednn),
and gpt_forward/model:0, the full-precision twin GPT (width 1024, 4 layers, 16 heads; the golden
model of tools/golden/models_gpt.py) on 1 and 64 tokens. Each path is checked before timing (int8
within 5% of fp32; GPT logits finite). Each timed run lasts about 0.25 s, as the C++ bench's fixed
MinTime (--min-time is accepted for bench/run.sh and ignored); --repeats runs, wall clock.
Names match the C++ run names without their thread and timing parts.
Run: /usr/bin/python3 bench/peers/onebit_peer.py [--threads 1 2] [--repeats 5]
"""
import os
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "golden"))
from models_gpt import GPT  # noqa: E402  (the golden reference model, not a copy)
from peer_output import emit, entry, parse_args, timed  # noqa: E402

RUN_SECONDS = 0.25
SHAPES = [(1024, 1024), (2048, 2048), (4096, 4096), (8192, 8192), (11008, 4096), (4096, 11008)]
PATHS = ["fp32_linear", "fp32_mv", "int8_qnnpack", "int8_onednn"]


def cpu_has_vnni():
    """AVX512-VNNI in /proc/cpuinfo, as lmlab's cpu_has_avx512_vnni."""
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_vnni" in f.read()
    except OSError:
        return False


# 7-bit activations without VNNI, as in bench/onebit_bench.cpp (vpmaddubsw saturates otherwise).
REDUCE_RANGE = not cpu_has_vnni()


def int8_forward(w, b, engine):
    """The dynamic-quantized linear with per-tensor absmax int8 weights prepacked for `engine`."""
    torch.backends.quantized.engine = engine
    qw = torch.quantize_per_tensor(w, w.abs().max().item() / 127.0, 0, torch.qint8)
    packed = torch.ops.quantized.linear_prepack(qw, b)

    def forward(x):
        torch.backends.quantized.engine = engine
        return torch.ops.quantized.linear_dynamic(x, packed, REDUCE_RANGE)
    return forward


def layer_forward(path, w, b):
    if path == "fp32_linear":
        return lambda x: F.linear(x, w, b)
    if path == "fp32_mv":
        return lambda x: torch.addmv(b, w, x.view(-1)).view(1, -1)
    return int8_forward(w, b, path.split("_")[1])


def check_int8():
    torch.manual_seed(0)
    lin = torch.nn.Linear(1000, 300)
    x = torch.randn(3, 1000)
    want = F.linear(x, lin.weight, lin.bias)
    for path in PATHS[2:]:
        got = layer_forward(path, lin.weight.detach(), lin.bias.detach())(x)
        err = ((got - want).abs().max() / want.abs().max()).item()
        if not err < 0.05:
            sys.exit(f"onebit_peer: {path} is off the fp32 layer by {err}")


def measure(threads, repeats):
    torch.set_num_threads(threads)
    out = []
    with torch.no_grad():
        for n, k in SHAPES:
            torch.manual_seed(n * 31 + k)
            lin = torch.nn.Linear(k, n)
            w, b = lin.weight.detach(), lin.bias.detach()
            for p, path in enumerate(PATHS):
                forward = layer_forward(path, w, b)
                for batch in (1, 8):
                    if path == "fp32_mv" and batch != 1:
                        continue
                    x = torch.randn(batch, k)
                    out.append(entry(f"{path}/path:{p}/N:{n}/K:{k}/batch:{batch}",
                                     timed(lambda: forward(x), repeats, RUN_SECONDS)))
        torch.manual_seed(7)
        gpt = GPT({"vocab": 256, "context": 128, "layers": 4, "heads": 16, "width": 1024, "mlp_ratio": 4}).eval()
        parameters = sum(p.numel() for p in gpt.parameters())
        for tokens in (1, 64):
            idx = torch.randint(0, 256, (1, tokens))
            if not torch.isfinite(gpt(idx)).all():
                sys.exit("onebit_peer: the GPT's logits are not finite")
            out.append(entry(f"gpt_forward/model:0/tokens:{tokens}", timed(lambda: gpt(idx), repeats, RUN_SECONDS),
                             parameters=parameters))
    return out


def main():
    args = parse_args(__doc__, "ignored (fixed 0.25 s per run)", RUN_SECONDS)
    check_int8()
    emit("onebit_peer.py", args, [b for t in args.threads for b in measure(t, args.repeats)],
         run_seconds=RUN_SECONDS)

if __name__ == "__main__":
    main()
