"""Golden reference for lmlab's ViT (tests/models/golden_test.cpp).

Builds the same architecture from PyTorch's own modules (a strided Conv2d patch embedding, class
token, positional embeddings, TransformerEncoderLayer with norm_first, LayerNorm, Linear head),
fills it with fixed random weights, and writes the weights under lmlab's parameter names (the conv
kernel flattened to lmlab's linear patch layer), a batch of images and the float64 logits to
tests/golden/models_vit.*.
Run: /usr/bin/python3 tools/golden/models_vit.py
"""
import torch

from models_golden_io import block_tensors, encoder_layer, randomize_, write_golden

CONFIG = {"image": 28, "channels": 1, "patch": 7, "classes": 10, "layers": 2, "heads": 4, "width": 32,
          "mlp_ratio": 2}


class ViT(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        n = (c["image"] // c["patch"]) ** 2
        self.patch = torch.nn.Conv2d(c["channels"], c["width"], c["patch"], stride=c["patch"])
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, c["width"]))
        self.pos = torch.nn.Parameter(torch.zeros(1, n + 1, c["width"]))
        self.blocks = torch.nn.ModuleList(
            [encoder_layer(c["width"], c["heads"], c["mlp_ratio"]) for _ in range(c["layers"])])
        self.ln_f = torch.nn.LayerNorm(c["width"])
        self.head = torch.nn.Linear(c["width"], c["classes"])

    def forward(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2)  # [B, N, C], patches in row-major order
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x)[:, 0])


def main():
    gen = torch.Generator().manual_seed(4321)
    model = ViT(CONFIG)
    randomize_(model, gen)
    images = torch.rand((3, CONFIG["channels"], CONFIG["image"], CONFIG["image"]), generator=gen)
    w = CONFIG["width"]
    tensors = [("cls", model.cls), ("pos", model.pos),
               ("patch.weight", model.patch.weight.reshape(w, -1)), ("patch.bias", model.patch.bias)]
    for i, block in enumerate(model.blocks):
        tensors += block_tensors(f"blocks.{i}.", block, w)
    tensors += [("ln_f.weight", model.ln_f.weight), ("ln_f.bias", model.ln_f.bias),
                ("head.weight", model.head.weight), ("head.bias", model.head.bias)]
    with torch.no_grad():
        logits = model.double()(images.double())
    tensors = [(k, v.float()) for k, v in tensors] + [("input.images", images),
                                                      ("output.logits", logits)]
    write_golden("models_vit", CONFIG, tensors)


if __name__ == "__main__":
    main()
