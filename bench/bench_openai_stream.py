#!/usr/bin/env python3
"""Streaming chat completions on `lathe serve`'s OpenAI-compatible wire under 1, 4 and 16
concurrent clients: time to first token (TTFT), request latency (p50/p99), tokens/s per stream and
aggregate tokens/s, for lathe with continuous batching, lathe with it turned off, and, when a
llama.cpp server is given, the same requests against it on the same weights with the same number
of slots, printed side by side with the ratios.

  bench/bench_openai_stream.py [--lathe build/lathe] [--model DIR | --shape 15M] [--requests 8]
                               [--max-tokens 128] [--clients 1,4,16] [--slots 16] [--no-unbatched]
                               [--llama-url http://127.0.0.1:8081 | --llama-server PATH [--gguf FILE]
                                [--llama-threads 1]]

The lathe side: `lathe serve --no-auth` with DIR as lathe.default-v1 (default: ../shared's
stories260K imported into a temporary folder; --shape 15M: random weights of stories15M's shape
with ../shared's Llama-2 tokenizer, where batching matters more), `onDemandSlots` --slots and a
queue large enough for every client; once with "continuousBatching" (the default: the slots'
requests share forward passes) and once without (each slot generates alone; --no-unbatched skips
it). Each client thread sends --requests streaming requests one after another
(http.client, the SSE read by hand: no SDK's overhead in the numbers), each a different prompt
with temperature 0 and max_tokens --max-tokens, stream_options.include_usage.

Per concurrency level it prints:
  ttft p50/p95   request sent -> first content delta, milliseconds
  lat p50/p99    request sent -> end of the stream, milliseconds
  tok/s/client   each stream's completion tokens / (last chunk - first chunk), median
  tok/s total    all completion tokens / wall time of the level (aggregate throughput)
and, per level, the aggregate tokens/s and p99 latency of each server as a ratio of lathe's.
llama.cpp: --llama-url names a running `llama-server` (its /v1/chat/completions, the same
weights as GGUF); --llama-server starts one on a free port (-np --slots, continuous batching is
llama-server's default) with --gguf, or with the lathe model exported by `lathe models
export-gguf --type f32` when --gguf is not given. Without
either (llama.cpp is not installed here) the comparison is skipped with a message saying so.
Both servers run on the same machine: run nothing else meanwhile, and compare ratios, not
absolute numbers across machines.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("LATHE_SHARED_DIR") or os.path.join(os.path.dirname(REPO), "shared")  # as the tests
PROMPTS = ["Once upon a time", "The little dog", "One day, a girl named Lily", "Tom and his mom",
           "In the park there was", "The sun was shining and", "A big red ball", "The cat wanted"]


def peer_env():
    """llama.cpp's own defaults: its OpenMP threads spin between operations, and OMP_WAIT_POLICY=PASSIVE
    (lathe's setting, perhaps in the caller's environment) would slow it 1.5-3x."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream_once(base, model, prompt, max_tokens):
    """One streaming chat completion: (ttft_s, tokens, stream_s, latency_s) or raises."""
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "temperature": 0, "stream": True, "stream_options": {"include_usage": True}})
    start = time.perf_counter()
    conn.request("POST", u.path.rstrip("/") + "/v1/chat/completions", body,
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError("HTTP %d: %s" % (resp.status, resp.read()[:300]))
    first = last = None
    tokens = pieces = 0
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
        for c in chunk.get("choices", []):
            if c.get("delta", {}).get("content"):
                now = time.perf_counter()
                first = first or now
                last = now
                pieces += 1
    conn.close()
    if first is None:
        raise RuntimeError("no content in the stream")
    return first - start, tokens or pieces, max(last - first, 1e-9), time.perf_counter() - start


def level(base, model, clients, requests, max_tokens):
    results, errors = [], []
    lock = threading.Lock()

    def client(k):
        for i in range(requests):
            try:
                r = stream_once(base, model, PROMPTS[(k + i) % len(PROMPTS)], max_tokens)
                with lock:
                    results.append(r)
            except Exception as e:  # noqa: BLE001 -- counted and reported
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if not results:
        return None, errors
    ttft = sorted(r[0] * 1000 for r in results)
    latency = sorted(r[3] * 1000 for r in results)
    streams = [r[1] / r[2] for r in results if r[1] > 1]
    per_client = statistics.median(streams) if streams else 0.0
    total = sum(r[1] for r in results) / wall
    return {"ttft_p50": percentile(ttft, 0.50), "ttft_p95": percentile(ttft, 0.95),
            "lat_p50": percentile(latency, 0.50), "lat_p99": percentile(latency, 0.99),
            "tok_s_client": per_client, "tok_s_total": total, "n": len(results)}, errors


def percentile(sorted_values, q):
    """The nearest-rank percentile: with few samples p99 is the slowest request, as it should be."""
    rank = max(1, int(-(-q * len(sorted_values) // 1)))  # ceil(q * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


def write_shaped_model(out, tokenizer):
    """A model folder of stories15M's shape (dim 288, 6 layers, 6 heads, MLP 768, Llama-2's 32000
    tokens) with random weights, as bench_generate makes one: speed does not depend on the values."""
    import array
    import random
    import struct
    os.makedirs(out, exist_ok=True)
    dim, ffn, layers, heads, vocab = 288, 768, 6, 6, 32000
    shapes = [("model.embed_tokens.weight", [vocab, dim])]
    for i in range(layers):
        p = "model.layers.%d." % i
        shapes += [(p + "input_layernorm.weight", [dim]), (p + "self_attn.q_proj.weight", [dim, dim]),
                   (p + "self_attn.k_proj.weight", [dim, dim]), (p + "self_attn.v_proj.weight", [dim, dim]),
                   (p + "self_attn.o_proj.weight", [dim, dim]), (p + "post_attention_layernorm.weight", [dim]),
                   (p + "mlp.gate_proj.weight", [ffn, dim]), (p + "mlp.up_proj.weight", [ffn, dim]),
                   (p + "mlp.down_proj.weight", [dim, ffn])]
    shapes += [("model.norm.weight", [dim]), ("lm_head.weight", [vocab, dim])]
    rng = random.Random(15)
    pattern = array.array("f", (rng.uniform(-0.05, 0.05) for _ in range(1 << 16)))
    header, offset = {}, 0
    for name, shape in shapes:
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * n]}
        offset += 4 * n
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for name, shape in shapes:
            n = 1
            for d in shape:
                n *= d
            if name.endswith("norm.weight"):
                f.write(array.array("f", [1.0] * n).tobytes())
                continue
            whole, rest = divmod(n, len(pattern))
            f.write(pattern.tobytes() * whole + pattern[:rest].tobytes())
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab,
                   "hidden_size": dim, "intermediate_size": ffn, "num_hidden_layers": layers,
                   "num_attention_heads": heads, "num_key_value_heads": heads, "max_position_embeddings": 1024,
                   "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "bos_token_id": 1, "eos_token_id": 2,
                   "tie_word_embeddings": False, "torch_dtype": "float32"}, f)
    shutil.copy(tokenizer, os.path.join(out, "tokenizer.model"))


def wait_ready(base, path, seconds=120):
    u = urllib.parse.urlparse(base)
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status < 500:
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lathe", default=os.path.join(REPO, "build", "lathe"))
    p.add_argument("--model", help="a model folder to serve as lathe.default-v1 (default: stories260K)")
    p.add_argument("--shape", choices=["15M"], help="serve random weights of stories15M's shape instead")
    p.add_argument("--requests", type=int, default=8, help="requests per client per level")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--clients", default="1,4,16")
    p.add_argument("--slots", type=int, default=16,
                   help="concurrent generations (lathe onDemandSlots, llama.cpp -np); default 16, the most clients")
    p.add_argument("--no-unbatched", action="store_true", help="skip lathe with continuousBatching off")
    p.add_argument("--llama-url", help="a running llama.cpp server on the same weights")
    p.add_argument("--llama-server", help="llama.cpp's llama-server binary, started with --gguf")
    p.add_argument("--gguf", help="the same weights as GGUF, for --llama-server")
    p.add_argument("--llama-threads", type=int, default=1,
                   help="llama-server -t (default 1: on 2 cores its default of every core fights the "
                        "clients and its HTTP threads, 14x slower streaming here)")
    args = p.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if args.shape:
            tokenizer = os.path.join(SHARED, "tokenizers", "llama2", "tokenizer.model")
            if not os.path.isfile(tokenizer):
                sys.exit("--shape needs %s" % tokenizer)
            model = os.path.join(tmp, "model15M")
            write_shaped_model(model, tokenizer)
        if not model:
            stories = os.path.join(SHARED, "models", "stories260K")
            if not os.path.isdir(stories):
                sys.exit("no --model and no %s" % stories)
            model = os.path.join(tmp, "stories260K")
            subprocess.run([args.lathe, "models", "import", os.path.join(stories, "stories260K.bin"), "--tokenizer",
                            os.path.join(stories, "tok512.model"), "--out", model], check=True,
                           stdout=subprocess.DEVNULL)
        servers = []

        def start_lathe(name, batching):
            config = os.path.join(tmp, name + ".json")
            with open(config, "w") as f:
                json.dump({"models": {"lathe.default-v1": model}, "onDemandSlots": args.slots,
                           "queuePerSlot": max(levels) * 2, "continuousBatching": batching}, f)
            port = free_port()
            proc = subprocess.Popen([args.lathe, "serve", "--no-auth", "--listen", "127.0.0.1:%d" % port,
                                     "--data-dir", os.path.join(tmp, name), "--config", config,
                                     "--default-build", "first-use"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
            servers.append((name, "http://127.0.0.1:%d" % port, "lathe.default-v1", proc))

        start_lathe("lathe", True)
        if not args.no_unbatched:
            start_lathe("unbatched", False)

        llama = None
        if args.llama_url:
            servers.append(("llama.cpp", args.llama_url, "default", None))
        elif args.llama_server or shutil.which("llama-server"):
            binary = args.llama_server or shutil.which("llama-server")
            gguf = args.gguf
            if not gguf:  # the same weights, exported by lathe (f32: lathe serves f32 here too)
                gguf = os.path.join(tmp, "model.gguf")
                subprocess.run([args.lathe, "models", "export-gguf", model, "--out", gguf, "--type", "f32"],
                               check=True, stdout=subprocess.DEVNULL)
            lport = free_port()
            # -c: llama-server splits its context among the slots; 512 each holds any request here.
            llama = subprocess.Popen([binary, "-m", gguf, "--port", str(lport), "-np", str(args.slots),
                                      "-c", str(args.slots * 512), "-t", str(args.llama_threads)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=peer_env())
            servers.append(("llama.cpp", "http://127.0.0.1:%d" % lport, "default", llama))
        else:
            print("llama.cpp: skipped (no --llama-url, no --llama-server, no llama-server on PATH): lathe alone")
        try:
            for name, base, _, _ in servers:
                if not wait_ready(base, "/v1/models"):
                    sys.exit("%s at %s did not answer" % (name, base))
            for name, base, m, _ in servers:  # warm-up: the model loads on first use
                stream_once(base, m, PROMPTS[0], 8)
            print("%-10s %7s %11s %11s %11s %11s %13s %12s" % (
                "server", "clients", "ttft p50 ms", "ttft p95 ms", "lat p50 ms", "lat p99 ms", "tok/s/client",
                "tok/s total"))
            for clients in levels:
                measured = {}
                for name, base, m, _ in servers:
                    r, errors = level(base, m, clients, args.requests, args.max_tokens)
                    if r is None:
                        print("%-10s %7d  all %d requests failed: %s" % (name, clients, len(errors), errors[:1]))
                        continue
                    measured[name] = r
                    print("%-10s %7d %11.1f %11.1f %11.1f %11.1f %13.1f %12.1f%s" % (
                        name, clients, r["ttft_p50"], r["ttft_p95"], r["lat_p50"], r["lat_p99"], r["tok_s_client"],
                        r["tok_s_total"], "  (%d errors: %s)" % (len(errors), errors[0][:80]) if errors else ""))
                if "lathe" in measured:
                    ours = measured["lathe"]
                    for name, r in measured.items():
                        if name != "lathe":
                            print("%-10s %7d   lathe / %s: tok/s total %.2fx, p99 latency %.2fx" % (
                                "", clients, name, ours["tok_s_total"] / max(r["tok_s_total"], 1e-9),
                                ours["lat_p99"] / max(r["lat_p99"], 1e-9)))
        finally:
            for _, _, _, proc in servers:
                if proc:
                    proc.terminate()
                    proc.wait(timeout=20)


if __name__ == "__main__":
    main()
