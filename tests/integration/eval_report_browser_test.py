#!/usr/bin/env python3
"""report.html in a real browser: `lathe eval report --summarize` renders a run written here (as a
person might edit one: per-case results only, aggregates recomputed), then Debian's headless
Chromium loads a copy of the page with a test-owned script appended. After load that script reads
every <canvas> back (getImageData: some non-transparent pixels, i.e. Chart.js drew), counts the
rows of the table of answers, ticks "show losses only" and counts the rows still shown, and writes
its findings into <pre id="test-result">, which --dump-dom prints.

Also: `lathe eval report` on a report.json of the wrong shape fails with the JSON path, `lathe
eval review` scores a case from stdin and rewrites the reports (so the page is checked with a human
review chart too), and --screenshot PATH writes a PNG of the page (docs/images/eval-report.png is
made this way).

Exit 77 (skipped) when chromium is not installed, after the command-line checks.
"""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CASES = 30
CATEGORIES = ["In-Domain (cards)", "In-Domain (accounts)", "Out-of-Domain (general)"]
QUESTIONS = [
    ("How do I dispute a credit card transaction?", ["dispute", "statement", "days"]),
    ("How do I reset my online banking password?", ["reset", "password", "email"]),
    ("What documents do I need to open an account?", ["identity", "address"]),
    ("Can you explain how blockchain technology works?", ["ledger", "blocks"]),
    ("What is the fee for an international wire transfer?", ["fee", "transfer"]),
]


def answer(model, i, keywords):
    """Deterministic answers: the tuned model mentions more keywords, except on every 7th case."""
    mentioned = keywords[: (len(keywords) if (model == 1) != (i % 7 == 0) else 1)]
    text = "Case %d: you should %s. <b>not bold</b> | a pipe" % (i, ", then ".join(mentioned))
    if i == 3:
        text += " </script><img src=x onerror=alert(1)>"
    return text


def write_run(path):
    """report.json with per-case results only: `--summarize` computes the rest."""
    cases, models = [], []
    for i in range(CASES):
        q, kws = QUESTIONS[i % len(QUESTIONS)]
        record = {"prompt": q, "expectedKeywords": kws, "category": CATEGORIES[i % len(CATEGORIES)],
                  "referenceResponse": "You should " + ", then ".join(kws) + "."}
        cases.append(dict(record, id="case-%d" % i, line=i + 1, inputRecord=record))
    for m, (label, ident) in enumerate([("base", "amazon.titan-text-express-v1"),
                                       ("tuned", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/demo")]):
        results = []
        for i, c in enumerate(cases):
            text = answer(m, i, c["expectedKeywords"])
            hits = [k for k in c["expectedKeywords"] if k.lower() in text.lower()]  # the guide's check
            results.append({"caseIndex": i, "ok": True, "text": text, "latencyMs": 200 + 37 * ((i * (m + 3)) % 11),
                            "outputTokens": 20 + i % 9, "stopReason": "end_turn", "keywordsHit": hits,
                            "metrics": {"keywordCoverage": len(hits) / len(c["expectedKeywords"]),
                                        "rougeL": round(0.2 + 0.5 * len(hits) / len(c["expectedKeywords"]) - 0.01 * (i % 5), 4),
                                        "refusal": 0.0, "answerWords": len(text.split())}})
        models.append({"label": label, "identifier": ident, "cases": results})
    run = {"reportVersion": 1, "runId": "eval-browser-test", "created": "2026-12-02T08:15:00.000Z",
           "settings": {"temperature": 0, "topP": 1, "maxTokens": 128, "seed": 0},
           "bootstrapSeed": 1, "testSet": {"source": "banking-test.jsonl", "cases": cases}, "models": models}
    with open(path, "w") as f:
        json.dump(run, f)
    expected_losses = sum(1 for i in range(CASES) if models[1]["cases"][i]["metrics"]["keywordCoverage"]
                          < models[0]["cases"][i]["metrics"]["keywordCoverage"])
    return expected_losses


# Runs after the page's own scripts (appended at the end, and on 'load'), with the page's CSP nonce.
PROBE = r"""
<script nonce="%s">
window.addEventListener('load', function () {
  setTimeout(function () {
    var canvases = Array.from(document.querySelectorAll('canvas')).map(function (c) {
      var ctx = c.getContext('2d'), painted = 0;
      if (c.width > 0 && c.height > 0) {
        var px = ctx.getImageData(0, 0, c.width, c.height).data;
        for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
      }
      return { id: c.id, width: c.width, height: c.height, painted: painted };
    });
    var rows = document.querySelectorAll('#answers-table tbody tr');
    var visible = function () { return Array.from(rows).filter(function (r) { return r.offsetParent !== null; }).length; };
    var before = visible();
    var box = document.getElementById('losses-only');
    box.click();
    var after = visible();
    var pre = document.createElement('pre');
    pre.id = 'test-result';
    pre.textContent = JSON.stringify({ chart: typeof Chart, canvases: canvases, rows: rows.length,
      visibleBefore: before, visibleLossesOnly: after, lossRows: document.querySelectorAll('tr.case.loss').length,
      marks: document.querySelectorAll('#answers-table mark').length,
      injected: document.querySelectorAll('img').length });
    document.body.appendChild(pre);
  }, 200);
});
</script>
"""


def chromium_command():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(chromium, profile, *args):
    cmd = [chromium, "--headless=new", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--user-data-dir=" + profile, "--virtual-time-budget=10000"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lathe", required=True)
    ap.add_argument("--screenshot", help="also write a 1280x1800 PNG of the page here")
    ap.add_argument("--run-dir", help="render this run's report.json instead of the generated one")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = os.path.join(tmp, "run")
        os.makedirs(run_dir)
        expected_losses = None
        if args.run_dir:
            shutil.copy(os.path.join(args.run_dir, "report.json"), run_dir)
            cases = len(json.load(open(os.path.join(run_dir, "report.json")))["testSet"]["cases"])
        else:
            expected_losses = write_run(os.path.join(run_dir, "report.json"))
            cases = CASES
        out_dir = os.path.join(tmp, "out")
        r = subprocess.run([args.lathe, "eval", "report", run_dir, "--out", out_dir] +
                           ([] if args.run_dir else ["--summarize"]), capture_output=True, text=True)
        assert r.returncode == 0, "lathe eval report failed: %s %s" % (r.stdout, r.stderr)
        for name in ("report.json", "report.md", "report.html"):
            assert os.path.exists(os.path.join(out_dir, name)), name

        # A report.json of the wrong shape: exit 1, and the message names the field.
        bad_dir = os.path.join(tmp, "bad")
        os.makedirs(bad_dir)
        bad = json.load(open(os.path.join(out_dir, "report.json")))
        bad["models"][1]["cases"][2]["latencyMs"] = "fast"
        json.dump(bad, open(os.path.join(bad_dir, "report.json"), "w"))
        r = subprocess.run([args.lathe, "eval", "report", bad_dir], capture_output=True, text=True)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert "models[1].cases[2].latencyMs: expected a number, got string" in r.stderr, r.stderr

        # `lathe eval review` through the command line: one case scored, then q; the reports gain it.
        # (Not on a --run-dir given for a screenshot, which should show the run as it is.)
        r = None if args.run_dir else subprocess.run([args.lathe, "eval", "review", out_dir], input="4 4 4 4 4\n2 2 2 2 2\nq\n",
                           capture_output=True, text=True)
        if r is not None:
            assert r.returncode == 0, r.stderr
            assert "Saved. 1 of %d cases scored" % cases in r.stdout, r.stdout[-2000:]
            assert os.path.exists(os.path.join(out_dir, "review.json"))
            assert "## Human review" in open(os.path.join(out_dir, "report.md"), encoding="utf-8").read()

        chromium = chromium_command()
        if not chromium:
            print("SKIP: chromium is not installed (Debian: apt-get install chromium); the command-line checks passed")
            return 77
        page = open(os.path.join(out_dir, "report.html"), encoding="utf-8").read()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the page loads a URL: it must open offline"
        assert "default-src 'none'" in page
        nonce = re.search(r"script-src 'nonce-([A-Za-z0-9]+)'", page).group(1)
        probe_path = os.path.join(tmp, "probe.html")
        with open(probe_path, "w", encoding="utf-8") as f:
            f.write(page + PROBE % nonce)
        profile = os.path.join(tmp, "profile")
        r = run_chromium(chromium, profile, "--dump-dom", "file://" + probe_path)
        m = re.search(r'<pre id="test-result">(.*?)</pre>', r.stdout, re.S)
        assert m, "no test result in the page (chromium exit %d): %s" % (r.returncode, r.stderr[-2000:])
        result = json.loads(html.unescape(m.group(1)))
        print(json.dumps(result, indent=1))

        assert result["chart"] == "function", "Chart.js did not load"
        assert len(result["canvases"]) >= 4, result["canvases"]
        for c in result["canvases"]:
            assert c["painted"] > 0, "canvas %s is empty" % c["id"]
        assert result["rows"] == cases, "the table holds %d rows for %d cases" % (result["rows"], cases)
        assert result["visibleBefore"] == cases
        assert result["visibleLossesOnly"] == result["lossRows"], result
        assert result["injected"] == 0, "an <img> from an answer became markup"
        if expected_losses is not None:
            assert result["lossRows"] == expected_losses, (result["lossRows"], expected_losses)
            assert 0 < expected_losses < cases
            assert result["marks"] > cases, "matched keywords are not highlighted"

        if args.screenshot:
            r = run_chromium(chromium, profile, "--hide-scrollbars", "--window-size=1280,1800",
                             "--screenshot=" + os.path.abspath(args.screenshot),
                             "file://" + os.path.join(out_dir, "report.html"))
            assert os.path.exists(args.screenshot), r.stderr[-2000:]
            print("screenshot:", args.screenshot)
    print("OK: %d canvases drawn, %d rows, losses filter shows %d" %
          (len(result["canvases"]), result["rows"], result["visibleLossesOnly"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
