#!/usr/bin/env python3
"""Streaming chat completions on `lathe serve`'s OpenAI-compatible wire under 1, 4 and 16
concurrent clients: time to first token (TTFT) and tokens/s, and, when a llama.cpp server is
given, the same requests against it on the same weights, printed side by side.

  bench/bench_openai_stream.py [--lathe build/lathe] [--model DIR] [--requests 8] [--max-tokens 128]
                               [--clients 1,4,16] [--slots 2]
                               [--llama-url http://127.0.0.1:8081 | --llama-server PATH --gguf FILE
                                [--llama-threads 1]]

The lathe side: `lathe serve --no-auth` with DIR as lathe.default-v1 (default: ../shared's
stories260K imported into a temporary folder), `onDemandSlots` --slots and a queue large enough
for every client. Each client thread sends --requests streaming requests one after another
(http.client, the SSE read by hand: no SDK's overhead in the numbers), each a different prompt
with temperature 0 and max_tokens --max-tokens, stream_options.include_usage.

Per concurrency level it prints:
  ttft p50/p95   request sent -> first content delta, milliseconds
  tok/s/client   each stream's completion tokens / (last chunk - first chunk), median
  tok/s total    all completion tokens / wall time of the level
llama.cpp: --llama-url names a running `llama-server` (its /v1/chat/completions, the same
weights as GGUF); --llama-server starts one with --gguf on a free port (-np --slots). Without
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
SHARED = os.path.join(os.path.dirname(REPO), "shared")
PROMPTS = ["Once upon a time", "The little dog", "One day, a girl named Lily", "Tom and his mom",
           "In the park there was", "The sun was shining and", "A big red ball", "The cat wanted"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream_once(base, model, prompt, max_tokens):
    """One streaming chat completion: (ttft_s, tokens, stream_s) or raises."""
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
    return first - start, tokens or pieces, max(last - first, 1e-9)


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
    per_client = statistics.median(r[1] / r[2] for r in results if r[1] > 1)
    total = sum(r[1] for r in results) / wall
    return {"ttft_p50": ttft[len(ttft) // 2], "ttft_p95": ttft[min(len(ttft) - 1, int(len(ttft) * 0.95))],
            "tok_s_client": per_client, "tok_s_total": total, "n": len(results)}, errors


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
    p.add_argument("--requests", type=int, default=8, help="requests per client per level")
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--clients", default="1,4,16")
    p.add_argument("--slots", type=int, default=2, help="concurrent generations (lathe onDemandSlots, llama.cpp -np)")
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
        if not model:
            stories = os.path.join(SHARED, "models", "stories260K")
            if not os.path.isdir(stories):
                sys.exit("no --model and no %s" % stories)
            model = os.path.join(tmp, "stories260K")
            subprocess.run([args.lathe, "models", "import", os.path.join(stories, "stories260K.bin"), "--tokenizer",
                            os.path.join(stories, "tok512.model"), "--out", model], check=True,
                           stdout=subprocess.DEVNULL)
        config = os.path.join(tmp, "config.json")
        with open(config, "w") as f:
            json.dump({"models": {"lathe.default-v1": model}, "onDemandSlots": args.slots,
                       "queuePerSlot": max(levels) * 2}, f)
        port = free_port()
        lathe = subprocess.Popen([args.lathe, "serve", "--no-auth", "--listen", "127.0.0.1:%d" % port, "--data-dir",
                                  os.path.join(tmp, "data"), "--config", config, "--default-build", "first-use"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        servers = [("lathe", "http://127.0.0.1:%d" % port, "lathe.default-v1", lathe)]
        llama = None
        if args.llama_url:
            servers.append(("llama.cpp", args.llama_url, "default", None))
        elif args.llama_server or shutil.which("llama-server"):
            binary = args.llama_server or shutil.which("llama-server")
            if not args.gguf:
                print("llama.cpp: skipped (%s found, but no --gguf with the same weights)" % binary)
            else:
                lport = free_port()
                llama = subprocess.Popen([binary, "-m", args.gguf, "--port", str(lport), "-np", str(args.slots),
                                          "-t", str(args.llama_threads)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                servers.append(("llama.cpp", "http://127.0.0.1:%d" % lport, "default", llama))
        else:
            print("llama.cpp: skipped (no --llama-url, no --llama-server, no llama-server on PATH): lathe alone")
        try:
            for name, base, _, _ in servers:
                if not wait_ready(base, "/v1/models"):
                    sys.exit("%s at %s did not answer" % (name, base))
            for name, base, m, _ in servers:  # warm-up: the model loads on first use
                stream_once(base, m, PROMPTS[0], 8)
            print("%-10s %7s %12s %12s %14s %12s" % ("server", "clients", "ttft p50 ms", "ttft p95 ms",
                                                      "tok/s/client", "tok/s total"))
            for clients in levels:
                for name, base, m, _ in servers:
                    r, errors = level(base, m, clients, args.requests, args.max_tokens)
                    if r is None:
                        print("%-10s %7d  all %d requests failed: %s" % (name, clients, len(errors), errors[:1]))
                        continue
                    print("%-10s %7d %12.1f %12.1f %14.1f %12.1f%s" % (
                        name, clients, r["ttft_p50"], r["ttft_p95"], r["tok_s_client"], r["tok_s_total"],
                        "  (%d errors: %s)" % (len(errors), errors[0][:80]) if errors else ""))
        finally:
            for _, _, _, proc in servers:
                if proc:
                    proc.terminate()
                    proc.wait(timeout=20)


if __name__ == "__main__":
    main()
