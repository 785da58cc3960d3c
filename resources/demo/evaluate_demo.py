#!/usr/bin/env python3
"""Measures the demo pack with the project's own CLI and prints the README's tables.

    python3 resources/demo/evaluate_demo.py [--meswitch build/app/cli/meswitch]

Installs the pack into a temporary data folder (`meswitch demo install`, which compresses
every expert with the pack's settings and trains the router), then:
  * mean NLL (`meswitch eval --json`) of the base, each expert and each compressed expert
    (`--model demo-base --delta <msd>`) on every domain's held-out set (eval/<domain>.txt);
  * exact-match accuracy on the held-out prompts (eval/<domain>.tsv, prompt TAB answer):
    greedy answers from `meswitch generate --chat` (base, uncompressed expert folders) and
    `meswitch chat --expert <name>` (base + compressed delta);
  * routing accuracy (`meswitch route --eval eval/routing.tsv --json`), on paraphrased
    prompts (eval/routing_paraphrase.tsv) and the share of prompts of no domain
    (eval/routing_none.txt) left to the base;
  * `meswitch chat --prompt "What is 17+25?"` (routed).
Standard library only.
"""
import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.join(HERE, "eval")
DOMAINS = ["arithmetic", "python", "facts"]
LIMIT = {"arithmetic": 100, "python": 60, "facts": 1000}  # exact-match prompts per domain


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meswitch", default=os.path.join(HERE, "..", "..", "build", "app", "cli",
                                                        "meswitch"))
    ap.add_argument("--jobs", type=int, default=4)
    a = ap.parse_args()
    home = tempfile.mkdtemp(prefix="meswitch-demo-eval-")
    m = [a.meswitch, "--home", home]
    inst = json.loads(run(m + ["demo", "install", "--json", "--threads", "2"]))
    print(f"installed in {inst['seconds']:.1f} s; router {inst['router']}")
    for e in inst["experts"]:
        c = e.get("compressed", {})
        print(f"  {e['name']}: {c.get('bits_per_param', 0):.2f} bits/param, "
              f"{c.get('file_bytes', 0)} bytes, {c.get('seconds', 0):.1f} s")
    base = inst["base"]["path"]
    experts = {e["name"].removeprefix("demo-"): e for e in inst["experts"]}
    bits = inst["experts"][0].get("compressed", {}).get("bits", 0)
    installed = f"{bits}-bit, as installed"

    r = json.loads(run(m + ["route", "--eval", os.path.join(EVAL, "routing.tsv"), "--json"]))
    print(f"\nrouting: accuracy {r['accuracy']:.3f} ({r['correct']}/{r['total']}), "
          f"mean confidence {r['mean_confidence']:.3f}, below threshold {r['below_threshold']}, "
          f"mean latency {r['mean_latency_ms']:.2f} ms")
    r = json.loads(run(m + ["route", "--eval", os.path.join(EVAL, "routing_paraphrase.tsv"),
                            "--json"]))
    print(f"routing on paraphrases (routing_paraphrase.tsv, not template-shaped): accuracy "
          f"{r['accuracy']:.3f} ({r['correct']}/{r['total']}), mean confidence "
          f"{r['mean_confidence']:.3f}, below threshold {r['below_threshold']}")
    with open(os.path.join(EVAL, "routing_none.txt")) as f:
        none = [line.strip() for line in f if line.strip()]
    to_base = 0
    for prompt in none:
        q = json.loads(run(m + ["route", "--prompt", prompt, "--json"]))
        to_base += q.get("expert") is None
    print(f"prompts of no domain (routing_none.txt) answered by the base: {to_base}/{len(none)}")
    p = subprocess.run(m + ["chat", "--prompt", "What is 17+25?"], capture_output=True, text=True)
    print(f"\nmeswitch chat --prompt \"What is 17+25?\" -> {p.stdout.strip()!r}")
    print("  " + "\n  ".join(l for l in p.stderr.splitlines() if l.strip()))

    # The same experts at the product's default (2 bits): compressed again, into new artifacts
    # (chat --expert uses an expert's newest artifact, so these are measured last).
    def nll_rows(label, delta_of):
        rows = []
        for d in DOMAINS:
            row = []
            for t in DOMAINS:
                args = ["--model", base, "--delta", delta_of(d)] if delta_of else \
                    ["--model", experts[d]["path"]]
                q = json.loads(run(m + ["eval"] + args + ["--text", os.path.join(EVAL, t + ".txt"),
                                                         "--json", "--threads", "1"]))
                row.append(f"{q['mean_nll']:.4f}")
            rows.append(f"| {d} ({label}) | " + " | ".join(row) + " |")
        return rows

    def answer(kind, target, prompt):
        if kind == "generate":
            cmd = m + ["generate", "--model", target, "--chat", "--prompt", prompt,
                       "--temperature", "0", "-n", "40", "--threads", "1"]
        else:
            cmd = m + ["chat", "--expert", target, "--prompt", prompt, "-n", "40",
                       "--threads", "1"]
        return run(cmd).strip()

    def exact(kind, target, d):
        with open(os.path.join(EVAL, d + ".tsv")) as f:
            items = [line.rstrip("\n").split("\t") for line in f if line.strip()][:LIMIT[d]]
        with cf.ThreadPoolExecutor(a.jobs) as ex:
            got = list(ex.map(lambda it: answer(kind, target, it[0]), items))
        ok = sum(g == want for g, (_, want) in zip(got, items))
        return f"{100.0 * ok / len(items):.1f} % ({ok}/{len(items)})", len(items)

    base_nll = []
    for t in DOMAINS:
        q = json.loads(run(m + ["eval", "--model", base, "--text", os.path.join(EVAL, t + ".txt"),
                                "--json", "--threads", "1"]))
        base_nll.append(f"{q['mean_nll']:.4f}")
    nll = ["| base | " + " | ".join(base_nll) + " |"]
    nll += nll_rows("uncompressed", None)
    nll += nll_rows(installed, lambda d: experts[d]["compressed"]["artifact"])
    em = {d: [exact("generate", base, d), exact("generate", experts[d]["path"], d),
              exact("chat", "demo-" + d, d)] for d in DOMAINS}

    two = {}
    for d in DOMAINS:
        out = os.path.join(home, f"demo-{d}-2bit.msd")
        c = json.loads(run(m + ["compress", "--expert", "demo-" + d, "--bits", "2", "--out", out,
                                "--json", "--threads", "2"]))
        two[d] = out
        print(f"  demo-{d} at 2 bits: {c['bits_per_param']:.2f} bits/param")
    nll += nll_rows("2-bit default", lambda d: two[d])
    for d in DOMAINS:
        em[d].append(exact("chat", "demo-" + d, d))

    print("\nmean NLL (nats/token) on the held-out sets")
    print("| model | " + " | ".join(DOMAINS) + " |")
    print("| --- |" + " --- |" * len(DOMAINS))
    print("\n".join(nll))
    print("\nexact match on the held-out prompts")
    print(f"| domain (prompts) | base | expert | compressed ({installed}) | compressed (2-bit default) |")
    print("| --- | --- | --- | --- | --- |")
    for d in DOMAINS:
        n = em[d][0][1]
        print(f"| {d} ({n}) | " + " | ".join(x[0] for x in em[d]) + " |")


if __name__ == "__main__":
    main()
