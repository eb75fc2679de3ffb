#!/usr/bin/env python3
"""Value-level mutation campaign (issue 18); not run by CI.

Replaces one numeric literal at a time in each bundled protocol with an extreme value
(0, denormals, 1e308, u32::MAX, negative, NaN, inf, ...), runs `check` and, for mutants that
pass, `timeline`, `simulate` and (xenografts) `power` with small reps, each under a timeout,
and counts panics (exit 101), aborts (134 or a signal) and timeouts. A mutant rejected by
`check` must be rejected with a position (`file:line:col:`); those without one are counted as
`unpositioned`. A run that passes `check` but fails later (exit 1) is counted as `late` (the
message should then still say what is wrong; these are listed with --verbose).

Usage:
    tools/mutate_values.py [--max N] [--seed S] [--jobs J] [--timeout T] [--verbose]
                           (binary: target/release/xenoplan)
Exit status 1 when any panic, abort or timeout was seen.
"""
import argparse
import concurrent.futures as cf
import pathlib
import random
import re
import subprocess
import sys
import tempfile

EXTREMES = ["0", "-0", "5e-324", "1e-320", "1e-12", "1e308", "-1e308", "4294967295",
            "4294967296", "18446744073709551615", "-1", "nan", "inf", "-inf", "1e12",
            "2147483648", "0.5"]
NUM = re.compile(r"(?<=[=\[, ])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[ ,\]\n}])")
POSITION = re.compile(r"\.toml:\d+:\d+: error: ")


def commands(f, out, kind_xeno):
    yield ["timeline", str(f), "--out", str(out / "t"), "--sims", "20"]
    yield ["simulate", str(f), "--out", str(out / "s"), "--no-lmm", "--bootstrap-reps", "20"]
    if kind_xeno:
        yield ["power", str(f), "--out", str(out / "p"), "--reps", "20", "--n", "3..5",
               "--threads", "1"]


def run_mutant(exe, d, i, p, text, pos, v, timeout):
    """Returns (counts, messages) for one mutant."""
    c = {"runs": 0, "panics": 0, "aborts": 0, "timeouts": 0, "rejected": 0,
         "unpositioned": 0, "late": 0, "passed": 0}
    msgs = []
    f = pathlib.Path(d) / f"m{i}_{p.name}"
    f.write_text(text)
    out = pathlib.Path(d) / f"out{i}"
    where = f"{p.name}@{pos}={v}"

    def run(cmd):
        c["runs"] += 1
        try:
            r = subprocess.run([str(exe)] + cmd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            c["timeouts"] += 1
            msgs.append(f"TIMEOUT {where}: {' '.join(cmd[:1])}")
            return None
        err = r.stderr.decode(errors="replace")
        if r.returncode == 101:
            c["panics"] += 1
            msgs.append(f"PANIC {where}: {cmd[0]}: {err[-400:]}")
        elif r.returncode < 0 or r.returncode == 134:
            c["aborts"] += 1
            msgs.append(f"ABORT {where}: {cmd[0]} rc={r.returncode}: {err[-200:]}")
        return r

    r = run(["check", str(f)])
    if r is None:
        return c, msgs
    if r.returncode != 0:
        c["rejected"] += 1
        err = r.stderr.decode(errors="replace")
        if r.returncode == 1 and not POSITION.search(err):
            c["unpositioned"] += 1
            msgs.append(f"UNPOSITIONED {where}: {err[:300]}")
        f.unlink()
        return c, msgs
    c["passed"] += 1
    xeno = "[[cohorts]]" in text or "[[arms]]" in text
    for cmd in commands(f, out, xeno):
        r = run(cmd)
        if r is not None and r.returncode == 1:
            c["late"] += 1
            msgs.append(f"late {where}: {cmd[0]}: {r.stderr.decode(errors='replace')[-300:]}")
    subprocess.run(["rm", "-rf", str(out), str(f)])
    return c, msgs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    root = pathlib.Path(__file__).resolve().parent.parent
    exe = root / "target/release/xenoplan"
    mutants = []
    for p in sorted((root / "protocols").glob("*.toml")):
        text = p.read_text()
        for m in NUM.finditer(text):
            # Skip literals inside comments.
            line_start = text.rfind("\n", 0, m.start()) + 1
            if "#" in text[line_start:m.start()]:
                continue
            for v in EXTREMES:
                mutants.append((p, text[: m.start()] + v + text[m.end():], m.start(), v))
    total = len(mutants)
    rnd.shuffle(mutants)
    mutants = mutants[: a.max]
    counts = {}
    with tempfile.TemporaryDirectory() as d, cf.ThreadPoolExecutor(a.jobs) as pool:
        futs = [pool.submit(run_mutant, exe, d, i, p, t, pos, v, a.timeout)
                for i, (p, t, pos, v) in enumerate(mutants)]
        for k, fut in enumerate(cf.as_completed(futs)):
            c, msgs = fut.result()
            for key, n in c.items():
                counts[key] = counts.get(key, 0) + n
            for m in msgs:
                if a.verbose or not m.startswith("late"):
                    print(m, flush=True)
            if (k + 1) % 200 == 0:
                print(f"... {k + 1}/{len(mutants)}", file=sys.stderr, flush=True)
    print(f"mutants {len(mutants)} (of {total} possible)",
          " ".join(f"{k} {n}" for k, n in counts.items()))
    bad = counts.get("panics", 0) + counts.get("aborts", 0) + counts.get("timeouts", 0)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
