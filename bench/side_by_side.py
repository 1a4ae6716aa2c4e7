"""Our model_benchmark against the PyTorch definitions in bench/pytorch, alternating the two
(A B A B ...) so that both see the same machine state, with the same threads. Prints each run and a
table of medians with the ratio ours / PyTorch, and each side's peak resident memory (the whole
process, from wait4).

Run with the python of a virtual environment that has torch (see bench/README.md):
  /path/to/venv/bin/python bench/side_by_side.py [--rounds 2] [--threads 2] [--quick]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = [("yolov4", 416, 2), ("yolov4", 416, 4), ("yolov4-tiny", 416, 8)]


def run(command, env):
    """Runs a command to its end; returns its output and its peak RSS in MiB."""
    p = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({p.returncode}):\n{out}")
    return out, usage.ru_maxrss / 1024


def ours(model, size, batch, threads, repeats, extra=()):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out, rss = run([os.path.join(ROOT, ".build/release/model_benchmark"), "--model", model, "--size", str(size),
                    "--batch", str(batch), "--repeats", str(repeats), "--precision", "fp32", *extra], env)
    def rate(label):
        m = re.search(re.escape(label) + r"\s+([0-9.]+) images/s", out)
        if not m:
            sys.exit(f"model_benchmark printed no '{label}' line:\n{out}")
        return float(m.group(1))
    return {"inference_b1": rate("inference, batch 1"), f"inference_b{batch}": rate(f"inference, batch {batch}"),
            f"train_b{batch}": rate(f"training step, batch {batch}"), "max_rss_mib": rss}


def pytorch(model, size, batch, threads, repeats):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    out, rss = run([sys.executable, os.path.join(ROOT, "bench/pytorch/bench.py"), "--model", model, "--size", str(size),
                    "--batch", str(batch), "--threads", str(threads), "--repeats", str(repeats),
                    "--check-keys", os.path.join(ROOT, "..", "shared", "reference")], env)
    result = json.loads(out.strip().splitlines()[-1])
    result["max_rss_mib"] = rss
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="yolov4-tiny only")
    parser.add_argument("--no-winograd", action="store_true",
                        help="our training convolutions with the direct method only (as before Winograd kernels)")
    parser.add_argument("--no-blocked-units", action="store_true",
                        help="our conv-BN-activation units with every activation in NCHW (as before blocked units)")
    a = parser.parse_args()
    if not os.access(os.path.join(ROOT, ".build/release/model_benchmark"), os.X_OK):
        sys.exit("build first: swift build -c release")
    cases = [c for c in CASES if not a.quick or c[0] == "yolov4-tiny"]
    our_flags = (["--no-winograd"] if a.no_winograd else []) + (["--no-blocked-units"] if a.no_blocked_units else [])
    rows = []
    for model, size, batch in cases:
        samples = {"pytorch": [], "ours": []}
        for r in range(a.rounds):
            for side, measure in (("pytorch", lambda: pytorch(model, size, batch, a.threads, a.repeats)),
                                  ("ours", lambda: ours(model, size, batch, a.threads, a.repeats, our_flags))):
                result = measure()
                samples[side].append(result)
                print(f"round {r + 1} {side:7} {model} {size} b{batch}: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in result.items() if isinstance(v, float)), flush=True)
        keys = ["inference_b1", f"inference_b{batch}", f"train_b{batch}"]
        if model == "yolov4" and batch != 2:
            keys = [f"train_b{batch}"]
        for key in keys + ["max_rss_mib"]:
            theirs = statistics.median(s[key] for s in samples["pytorch"])
            mine = statistics.median(s[key] for s in samples["ours"])
            rows.append((f"{model} {key.replace('_b', ', batch ')}", theirs, mine))
    print()
    print(f"threads {a.threads}, {a.rounds} rounds alternating, medians")
    print("| work | PyTorch | ours | ours / PyTorch |")
    print("| --- | --- | --- | --- |")
    for name, theirs, mine in rows:
        unit = "MiB peak RSS" if "rss" in name else "img/s"
        print(f"| {name.replace('max_rss_mib', 'training + inference')} ({unit}) | {theirs:.2f} | {mine:.2f} | {mine / theirs:.2f}x |")


if __name__ == "__main__":
    main()
