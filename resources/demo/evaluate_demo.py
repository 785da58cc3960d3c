#!/usr/bin/env python3
"""Measures the demo pack with the project's own CLI and prints the README's tables.

    python3 resources/demo/evaluate_demo.py [--meswitch build/app/cli/meswitch]

Installs the pack into a temporary data folder (`meswitch demo install`, which compresses
every expert with the default settings and trains the router), then:
  * mean NLL (`meswitch eval --json`) of the base, each expert and each compressed expert
    (`--model demo-base --delta <msd>`) on every domain's held-out set (eval/<domain>.txt);
  * exact-match accuracy on the held-out prompts (eval/<domain>.tsv, prompt TAB answer):
    greedy answers from `meswitch generate --chat` (base, uncompressed expert folders) and
    `meswitch chat --expert <name>` (base + compressed delta);
  * routing accuracy (`meswitch route --eval eval/routing.tsv --json`);
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

    # mean NLL
    configs = [("base", ["--model", base])]
    for d in DOMAINS:
        configs.append((d, ["--model", experts[d]["path"]]))
        configs.append((d + " (2-bit)", ["--model", base, "--delta",
                                         experts[d]["compressed"]["artifact"]]))
    print("\nmean NLL (nats/token) on the held-out sets")
    print("| model | " + " | ".join(DOMAINS) + " |")
    print("| --- |" + " --- |" * len(DOMAINS))
    for name, args in configs:
        row = []
        for d in DOMAINS:
            r = json.loads(run(m + ["eval"] + args + ["--text", os.path.join(EVAL, d + ".txt"),
                                                     "--json", "--threads", "1"]))
            row.append(f"{r['mean_nll']:.4f}")
        print(f"| {name} | " + " | ".join(row) + " |")

    # exact match
    def answer(kind, target, prompt):
        if kind == "generate":
            cmd = m + ["generate", "--model", target, "--chat", "--prompt", prompt,
                       "--temperature", "0", "-n", "40", "--threads", "1"]
        else:
            cmd = m + ["chat", "--expert", target, "--prompt", prompt, "-n", "40",
                       "--threads", "1"]
        return run(cmd).strip()

    print("\nexact match on the held-out prompts")
    print("| domain (prompts) | base | expert | expert, 2-bit compressed |")
    print("| --- | --- | --- | --- |")
    for d in DOMAINS:
        with open(os.path.join(EVAL, d + ".tsv")) as f:
            items = [line.rstrip("\n").split("\t") for line in f if line.strip()][:LIMIT[d]]
        row = []
        for kind, target in [("generate", base), ("generate", experts[d]["path"]),
                             ("chat", "demo-" + d)]:
            with cf.ThreadPoolExecutor(a.jobs) as ex:
                got = list(ex.map(lambda it: answer(kind, target, it[0]), items))
            ok = sum(g == want for g, (_, want) in zip(got, items))
            row.append(f"{100.0 * ok / len(items):.1f} % ({ok}/{len(items)})")
        print(f"| {d} ({len(items)}) | " + " | ".join(row) + " |")

    r = json.loads(run(m + ["route", "--eval", os.path.join(EVAL, "routing.tsv"), "--json"]))
    print(f"\nrouting: accuracy {r['accuracy']:.3f} ({r['correct']}/{r['total']}), "
          f"mean confidence {r['mean_confidence']:.3f}, below threshold {r['below_threshold']}, "
          f"mean latency {r['mean_latency_ms']:.2f} ms")
    p = subprocess.run(m + ["chat", "--prompt", "What is 17+25?"], capture_output=True, text=True)
    print(f"\nmeswitch chat --prompt \"What is 17+25?\" -> {p.stdout.strip()!r}")
    print("  " + "\n  ".join(l for l in p.stderr.splitlines() if l.strip()))


if __name__ == "__main__":
    main()
