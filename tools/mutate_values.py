#!/usr/bin/env python3
"""Value-level mutation campaign (issue 18); not run by CI.

Replaces one numeric literal at a time in each bundled protocol with an extreme value
(0, denormal, 1e308, u32::MAX, negative, NaN, ...), runs `check` and, for mutants that pass,
`timeline` and `simulate` (or `timeline` only for procedures) under a 20 s timeout, and counts
panics (exit 101), aborts (134 or signals) and hangs. Usage:
    tools/mutate_values.py [--max N] [--seed S]   (binary: target/release/xenoplan)
"""
import random, re, subprocess, sys, tempfile, pathlib, argparse

EXTREMES = ["0", "5e-324", "1e-12", "1e308", "4294967295", "-1", "-1e308", "nan", "inf", "18446744073709551615"]
NUM = re.compile(r"(?<=[=\[, ])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[ ,\]\n}])")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    root = pathlib.Path(__file__).resolve().parent.parent
    exe = root / "target/release/xenoplan"
    mutants = []
    for p in sorted((root / "protocols").glob("*.toml")):
        text = p.read_text()
        for m in NUM.finditer(text):
            for v in EXTREMES:
                mutants.append((p, text[: m.start()] + v + text[m.end():], m.start(), v))
    rnd.shuffle(mutants)
    mutants = mutants[: a.max]
    counts = {"runs": 0, "panics": 0, "aborts": 0, "hangs": 0, "rejected": 0}
    with tempfile.TemporaryDirectory() as d:
        for i, (p, text, pos, v) in enumerate(mutants):
            f = pathlib.Path(d) / p.name
            f.write_text(text)
            out = pathlib.Path(d) / f"out{i}"
            cmds = [["check", str(f)]]
            for cmd in cmds + [["timeline", str(f), "--out", str(out), "--sims", "20"],
                               ["simulate", str(f), "--out", str(out), "--no-lmm", "--bootstrap-reps", "50"]]:
                counts["runs"] += 1
                try:
                    r = subprocess.run([str(exe)] + cmd, capture_output=True, timeout=20)
                except subprocess.TimeoutExpired:
                    counts["hangs"] += 1
                    print(f"HANG {p.name}@{pos}={v}: {cmd[0]}")
                    continue
                if r.returncode == 101:
                    counts["panics"] += 1
                    print(f"PANIC {p.name}@{pos}={v}: {cmd[0]}: {r.stderr.decode()[-300:]}")
                elif r.returncode < 0 or r.returncode == 134:
                    counts["aborts"] += 1
                    print(f"ABORT {p.name}@{pos}={v}: {cmd[0]} rc={r.returncode}")
                if cmd[0] == "check" and r.returncode != 0:
                    counts["rejected"] += 1
                    break
    print(f"mutants {len(mutants)}", " ".join(f"{k} {n}" for k, n in counts.items()))
    return 1 if counts["panics"] + counts["aborts"] + counts["hangs"] else 0

if __name__ == "__main__":
    sys.exit(main())
