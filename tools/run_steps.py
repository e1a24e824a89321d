"""Run the numbered tutorial steps, each in its own Python process, and report.

Usage:
    python tools/run_steps.py                 # every steps/stepNN.py
    python tools/run_steps.py 3 9             # steps 03 to 09
    python tools/run_steps.py 5               # step 05 only
    python tools/run_steps.py step02 step07.py 12   # names (or numbers) in a list
Files the steps write go to $DEZERO_STEPS_OUT if set (passed through
unchanged), else to steps/out/. Exit status 0 only when every step passed.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

STEPS_DIR = Path(__file__).resolve().parent.parent / "steps"
STEP_NAME = re.compile(r"step(\d+)\.py")
MISSING_DEPENDENCY = 77  # a step exits with this when an optional package is not installed
TAIL_LINES = 20


def find_steps(steps_dir):
    """Return {number: path} for every stepNN.py in steps_dir."""
    steps = {}
    for path in steps_dir.glob("step*.py"):
        match = STEP_NAME.fullmatch(path.name)
        if match:
            steps[int(match.group(1))] = path
    return dict(sorted(steps.items()))


def select(steps, args):
    """Pick steps by the command-line words: none, N, FIRST LAST, or names."""
    if not args:
        return list(steps.values())
    if all(a.isdigit() for a in args):
        if len(args) > 2:
            raise ValueError("give one step number, or two (first and last), or step names")
        first, last = int(args[0]), int(args[-1])
        if first > last:
            raise ValueError(f"the first step ({first}) comes after the last ({last})")
        chosen = [path for number, path in steps.items() if first <= number <= last]
        if not chosen:
            raise ValueError(f"no step numbered {first} to {last}; there are {describe(steps)}")
        return chosen
    chosen = []
    for arg in args:
        name = Path(arg).name
        if name.isdigit():
            number = int(name)
        else:
            match = STEP_NAME.fullmatch(name if name.endswith(".py") else name + ".py")
            number = int(match.group(1)) if match else None
        if number not in steps:
            raise ValueError(f"no step called {arg!r}; there are {describe(steps)}")
        chosen.append(steps[number])
    return chosen


def describe(steps):
    if not steps:
        return "none"
    names = [p.name for p in steps.values()]
    return f"{len(names)} ({names[0]} to {names[-1]})"


def run_step(path, timeout):
    """Run one step; return (status, seconds, combined output)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=os.environ.copy(),
        )
    except subprocess.TimeoutExpired as exc:
        output = "".join(
            s if isinstance(s, str) else (s or b"").decode(errors="replace")
            for s in (exc.stdout, exc.stderr)
        )
        return f"FAILED (timed out after {timeout:g} s)", time.perf_counter() - start, output
    seconds = time.perf_counter() - start
    output = proc.stdout + proc.stderr
    if proc.returncode == 0:
        return "ok", seconds, output
    if proc.returncode == MISSING_DEPENDENCY:
        return "MISSING DEPENDENCY", seconds, output
    return f"FAILED (exit status {proc.returncode})", seconds, output


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Run the tutorial steps in steps/, each as a subprocess.",
        epilog="Examples: run_steps.py | run_steps.py 3 9 | run_steps.py 5 | run_steps.py step02 step07",
    )
    parser.add_argument("steps", nargs="*", help="N, FIRST LAST, or step names (default: all)")
    parser.add_argument(
        "--steps-dir",
        type=Path,
        default=STEPS_DIR,
        help="folder holding stepNN.py files (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds one step may take (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    steps = find_steps(args.steps_dir)
    try:
        chosen = select(steps, args.steps)
    except ValueError as exc:
        parser.error(str(exc))
    if not chosen:
        parser.error(f"no stepNN.py files in {args.steps_dir}")

    counts = {"passed": 0, "failed": 0, "missing a dependency": 0}
    total = 0.0
    width = max(len(p.name) for p in chosen)
    for path in chosen:
        status, seconds, output = run_step(path, args.timeout)
        total += seconds
        print(f"{path.name:<{width}}  {status:<10}  {seconds:6.2f} s", flush=True)
        if status == "ok":
            counts["passed"] += 1
            continue
        counts["missing a dependency" if status == "MISSING DEPENDENCY" else "failed"] += 1
        for line in output.rstrip().splitlines()[-TAIL_LINES:]:
            print(f"    | {line}")
    summary = ", ".join(
        f"{n} {what}" for what, n in counts.items() if n or what != "missing a dependency"
    )
    print(f"{summary} in {total:.2f} s")
    return 0 if counts["passed"] == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
