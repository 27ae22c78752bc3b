#!/usr/bin/python3
"""The PyTorch-eager peer of bench_generate: a plain Llama forward with a KV cache, greedy
decoding, same weights (read straight from model.safetensors) and same settings as lathe.
Prints one JSON object of tokens/s. Run with Debian's python3-torch (/usr/bin/python3).

  pytorch_generate.py --model DIR --batch 1 --prompt-tokens 64 --new-tokens 64 --threads 2
"""
import argparse, json, math, struct, time

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        buf = bytearray(data[8 + n + b:8 + n + e])
        out[name] = torch.frombuffer(buf, dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).float()
    return out


class Llama:
    def __init__(self, model_dir):
        self.c = json.load(open(model_dir + "/config.json"))
        self.w = load_safetensors(model_dir + "/model.safetensors")
        c = self.c
        self.H, self.KV = c["num_attention_heads"], c["num_key_value_heads"]
        self.D = c.get("head_dim") or c["hidden_size"] // self.H
        self.L = c["num_hidden_layers"]
        inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, self.D, 2, dtype=torch.float64) / self.D))
        t = torch.arange(4096, dtype=torch.float64)[:, None] * inv[None, :]
        emb = torch.cat([t, t], -1)
        self.cos, self.sin = emb.cos().float(), emb.sin().float()
        self.lm_head = self.w.get("lm_head.weight", self.w["model.embed_tokens.weight"])

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["rms_norm_eps"]) * w

    def rot(self, x, cos, sin):
        h = self.D // 2
        return x * cos + torch.cat([-x[..., h:], x[..., :h]], -1) * sin

    def forward(self, tokens, start, cache):
        B, T = tokens.shape
        w, H, KV, D = self.w, self.H, self.KV, self.D
        cos, sin = self.cos[start:start + T], self.sin[start:start + T]
        x = w["model.embed_tokens.weight"][tokens]
        mask = None
        if T > 1:
            mask = torch.full((T, start + T), float("-inf")).triu(start + 1)
        for l in range(self.L):
            p = f"model.layers.{l}."
            h = self.rms(x, w[p + "input_layernorm.weight"])
            q = torch.nn.functional.linear(h, w[p + "self_attn.q_proj.weight"]).view(B, T, H, D).transpose(1, 2)
            k = torch.nn.functional.linear(h, w[p + "self_attn.k_proj.weight"]).view(B, T, KV, D).transpose(1, 2)
            v = torch.nn.functional.linear(h, w[p + "self_attn.v_proj.weight"]).view(B, T, KV, D).transpose(1, 2)
            q, k = self.rot(q, cos, sin), self.rot(k, cos, sin)
            ck, cv = cache[l]
            ck[:, :, start:start + T] = k
            cv[:, :, start:start + T] = v
            keys = ck[:, :, :start + T].repeat_interleave(H // KV, dim=1)
            vals = cv[:, :, :start + T].repeat_interleave(H // KV, dim=1)
            s = q @ keys.transpose(-1, -2) / math.sqrt(D)
            if mask is not None:
                s = s + mask
            o = (s.softmax(-1) @ vals).transpose(1, 2).reshape(B, T, H * D)
            x = x + torch.nn.functional.linear(o, w[p + "self_attn.o_proj.weight"])
            h = self.rms(x, w[p + "post_attention_layernorm.weight"])
            g = torch.nn.functional.silu(torch.nn.functional.linear(h, w[p + "mlp.gate_proj.weight"]))
            x = x + torch.nn.functional.linear(g * torch.nn.functional.linear(h, w[p + "mlp.up_proj.weight"]),
                                               w[p + "mlp.down_proj.weight"])
        return torch.nn.functional.linear(self.rms(x[:, -1], w["model.norm.weight"]), self.lm_head)

    def generate(self, prompt, new_tokens):
        B, P = prompt.shape
        cache = [(torch.zeros(B, self.KV, P + new_tokens, self.D), torch.zeros(B, self.KV, P + new_tokens, self.D))
                 for _ in range(self.L)]
        t0 = time.perf_counter()
        logits = self.forward(prompt, 0, cache)
        t1 = time.perf_counter()
        out = []
        for i in range(new_tokens):
            nxt = logits.argmax(-1, keepdim=True)
            out.append(nxt)
            if i + 1 < new_tokens:
                logits = self.forward(nxt, P + i, cache)
        t2 = time.perf_counter()
        return torch.cat(out, 1), t1 - t0, t2 - t1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt-tokens", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--flush-denormal", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.flush_denormal:
        torch.set_flush_denormal(True)
    m = Llama(a.model)
    vocab = m.c["vocab_size"]
    prompt = (torch.arange(a.batch * a.prompt_tokens).reshape(a.batch, a.prompt_tokens) * 7919 + 3) % (vocab - 3) + 3
    best_p, best_d, tokens = 1e9, 1e9, None
    with torch.inference_mode():
        m.generate(prompt, 4)  # warm-up
        for _ in range(a.repeats):
            tokens, tp, td = m.generate(prompt, a.new_tokens)
            best_p, best_d = min(best_p, tp), min(best_d, td)
    print(json.dumps({
        "prompt_tokens_per_s": a.batch * a.prompt_tokens / best_p,
        "decode_tokens_per_s": a.batch * (a.new_tokens - 1) / best_d,
        "first_tokens": tokens[0, :8].tolist(),
    }))


if __name__ == "__main__":
    main()
