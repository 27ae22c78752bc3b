#!/usr/bin/python3
"""The PyTorch-eager peer of bench_train: the same Llama forward as pytorch_generate.py, trained
with AdamW on random tokens (LoRA on q/v, or full), timed over a few steps. Prints JSON with
tokens/s and peak RSS. Run with Debian's python3-torch (/usr/bin/python3).

  pytorch_train.py --hidden 256 --layers 4 --heads 8 --kv-heads 8 --ffn 688 --vocab 4096
                   --method lora --batch 4 --seq 128 --steps 6 --threads 2 [--bf16]
"""
import argparse, json, math, resource, time

import torch


def main():
    ap = argparse.ArgumentParser()
    for k in ("hidden", "layers", "heads", "kv-heads", "ffn", "vocab", "batch", "seq", "steps", "threads"):
        ap.add_argument("--" + k, type=int, required=True)
    ap.add_argument("--method", choices=["lora", "full"], required=True)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast for the forward pass and loss, as lathe's "
                    "trainer on a CPU with AVX512_BF16 (otherwise fp32)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    H, KV, D, L = a.heads, a.kv_heads, a.hidden // a.heads, a.layers
    def p(*shape, scale=0.02):
        return (torch.randn(*shape) * scale).requires_grad_(a.method == "full")
    w = {"embed": p(a.vocab, a.hidden), "norm": torch.ones(a.hidden).requires_grad_(a.method == "full")}
    layers = []
    for _ in range(L):
        layers.append({"n1": torch.ones(a.hidden).requires_grad_(a.method == "full"), "q": p(H * D, a.hidden),
                       "k": p(KV * D, a.hidden), "v": p(KV * D, a.hidden), "o": p(a.hidden, H * D),
                       "n2": torch.ones(a.hidden).requires_grad_(a.method == "full"), "g": p(a.ffn, a.hidden),
                       "u": p(a.ffn, a.hidden), "d": p(a.hidden, a.ffn)})
    lora = []
    if a.method == "lora":
        for _ in range(L):
            lora.append({m: ((torch.rand(8, a.hidden) * 2 - 1) / math.sqrt(a.hidden)).requires_grad_(),
                         m + "B": torch.zeros(out, 8).requires_grad_()} for m, out in (("q", H * D), ("v", KV * D)))
        lora = [dict(kv for d in layer for kv in d.items()) for layer in lora]
        params = [t for layer in lora for t in layer.values()]
    else:
        params = [w["embed"], w["norm"]] + [t for layer in layers for t in layer.values()]
    opt = torch.optim.AdamW(params, lr=1e-4)
    T = a.seq
    t = torch.arange(T, dtype=torch.float64)[:, None] / (10000.0 ** (torch.arange(0, D, 2, dtype=torch.float64) / D))[None]
    cos, sin = torch.cat([t.cos(), t.cos()], -1).float(), torch.cat([t.sin(), t.sin()], -1).float()
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)

    def rms(x, g):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g

    def rot(x):
        return x * cos + torch.cat([-x[..., D // 2:], x[..., :D // 2]], -1) * sin

    def lin(x, wt, layer, name):
        y = torch.nn.functional.linear(x, wt)
        if lora and name in lora[layer]:
            y = y + torch.nn.functional.linear(torch.nn.functional.linear(x, lora[layer][name]), lora[layer][name + "B"]) * 2.0
        return y

    def forward(tokens):
        B = tokens.shape[0]
        x = w["embed"][tokens]
        for i, l in enumerate(layers):
            h = rms(x, l["n1"])
            q = rot(lin(h, l["q"], i, "q").view(B, T, H, D).transpose(1, 2))
            k = rot(lin(h, l["k"], i, "k").view(B, T, KV, D).transpose(1, 2)).repeat_interleave(H // KV, 1)
            v = lin(h, l["v"], i, "v").view(B, T, KV, D).transpose(1, 2).repeat_interleave(H // KV, 1)
            s = (q @ k.transpose(-1, -2) / math.sqrt(D)).masked_fill(causal, float("-inf"))
            x = x + torch.nn.functional.linear((s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * D), l["o"])
            h = rms(x, l["n2"])
            x = x + torch.nn.functional.linear(torch.nn.functional.silu(torch.nn.functional.linear(h, l["g"])) *
                                               torch.nn.functional.linear(h, l["u"]), l["d"])
        return torch.nn.functional.linear(rms(x, w["norm"]), w["embed"])

    tokens = torch.randint(0, a.vocab, (a.batch, T))
    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            logits = forward(tokens)
            loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, a.vocab).float(),
                                                     tokens[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    secs = time.perf_counter() - t0
    print(json.dumps({"tokens_per_s": a.steps * a.batch * T / secs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))


if __name__ == "__main__":
    main()
