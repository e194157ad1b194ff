"""Golden reference for lmlab's GPT (tests/models/golden_test.cpp).

Builds the same architecture from PyTorch's own modules (Embedding, TransformerEncoderLayer with
norm_first, LayerNorm, tied head), fills it with fixed random weights, and writes the weights under
lmlab's parameter names, a batch of token ids and the float64 logits to tests/golden/models_gpt.*.
Run: /usr/bin/python3 tools/golden/models_gpt.py
"""
import torch

from models_golden_io import block_tensors, encoder_layer, randomize_, write_golden

CONFIG = {"vocab": 256, "context": 16, "layers": 2, "heads": 4, "width": 32, "mlp_ratio": 4}


class GPT(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = torch.nn.Embedding(c["vocab"], c["width"])
        self.wpe = torch.nn.Embedding(c["context"], c["width"])
        self.blocks = torch.nn.ModuleList(
            [encoder_layer(c["width"], c["heads"], c["mlp_ratio"]) for _ in range(c["layers"])])
        self.ln_f = torch.nn.LayerNorm(c["width"])

    def forward(self, idx):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(t))
        causal = torch.nn.Transformer.generate_square_subsequent_mask(t).to(x.dtype)
        for block in self.blocks:
            x = block(x, src_mask=causal)
        return self.ln_f(x) @ self.wte.weight.t()  # tied head


def main():
    gen = torch.Generator().manual_seed(1234)
    model = GPT(CONFIG)
    randomize_(model, gen)
    idx = torch.randint(0, CONFIG["vocab"], (2, 12), generator=gen)  # T = 12 < context
    tensors = [("wte.weight", model.wte.weight), ("wpe.weight", model.wpe.weight)]
    for i, block in enumerate(model.blocks):
        tensors += block_tensors(f"blocks.{i}.", block, CONFIG["width"])
    tensors += [("ln_f.weight", model.ln_f.weight), ("ln_f.bias", model.ln_f.bias)]
    with torch.no_grad():
        logits = model.double()(idx)
    tensors = [(k, v.float()) for k, v in tensors] + [("input.idx", idx), ("output.logits", logits)]
    write_golden("models_gpt", CONFIG, tensors)


if __name__ == "__main__":
    main()
