"""The tutorial steps: each runs and passes its own asserts; the table and the runner agree."""

import ast
import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STEPS_DIR = ROOT / "steps"
RUNNER = ROOT / "tools" / "run_steps.py"
STEP_NAME = re.compile(r"step(\d+)\.py")
TABLE_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*\[([^\]]+)\]\(([^)]+)\)\s*\|", re.MULTILINE)
MISSING_DEPENDENCY = 77  # exit status of a step whose optional package is not installed
STEP_FILES = sorted(
    STEPS_DIR.glob("step*.py"),
    key=lambda p: int(m.group(1)) if (m := STEP_NAME.fullmatch(p.name)) else -1,
)


def run(args, tmp_path, timeout=120, extra_env=None):
    """Run Python with args in an empty folder, step output going to tmp_path/out."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    env = dict(os.environ, DEZERO_STEPS_OUT=str(tmp_path / "out"), **(extra_env or {}))
    return subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tail(proc, lines=30):
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-lines:])


def test_there_are_steps():
    assert len(STEP_FILES) >= 16


@pytest.mark.parametrize("path", STEP_FILES, ids=lambda p: p.name)
def test_step_runs_and_passes_its_asserts(path, tmp_path):
    proc = run([path], tmp_path)
    if proc.returncode == MISSING_DEPENDENCY and "pip install" in proc.stderr:
        pytest.skip(f"optional package not installed: {proc.stderr.strip()}")
    assert proc.returncode == 0, f"{path.name} exited with {proc.returncode}:\n{tail(proc)}"
    written = list((tmp_path / "cwd").iterdir())
    assert not written, f"{path.name} wrote into the current folder: {written}; use OUT"


def test_step_numbers_are_contiguous_from_01():
    names = [p.name for p in STEP_FILES]
    bad = [n for n in names if not STEP_NAME.fullmatch(n)]
    assert not bad, f"step files must be named stepNN.py: {bad}"
    numbers = [int(STEP_NAME.fullmatch(n).group(1)) for n in names]
    assert numbers == list(range(1, len(numbers) + 1)), f"gaps or duplicates in {numbers}"
    assert names == [f"step{n:02d}.py" for n in numbers], "step numbers need two digits (step01.py)"


def test_readme_table_lists_exactly_the_step_files():
    text = (STEPS_DIR / "README.md").read_text(encoding="utf-8")
    rows = TABLE_ROW.findall(text)
    assert rows, "steps/README.md has no '| NN | [stepNN.py](stepNN.py) | ... |' rows"
    for number, label, target in rows:
        assert label == target, f"row {number}: link text {label!r} but target {target!r}"
        match = STEP_NAME.fullmatch(target)
        assert match and int(match.group(1)) == int(number), f"row {number} names {target}"
    listed = [target for _, _, target in rows]
    assert len(listed) == len(set(listed)), "a step is listed twice in steps/README.md"
    files = {p.name for p in STEP_FILES}
    assert not files - set(listed), (
        f"missing from the steps/README.md table: {sorted(files - set(listed))}"
    )
    assert not set(listed) - files, (
        f"the table names files that do not exist: {sorted(set(listed) - files)}"
    )


@pytest.mark.parametrize("path", STEP_FILES, ids=lambda p: p.name)
def test_step_has_docstring_and_ends_with_asserts(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    doc = ast.get_docstring(tree)
    assert doc and len(doc.split()) >= 10, f"{path.name} needs a module docstring saying its idea"
    asserts = [node for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts, f"{path.name} has no assert"
    last = tree.body[-1]
    if isinstance(last, ast.If) and "__main__" in ast.unparse(last.test):
        last = last.body[-1]  # a step may end with an `if __name__ == "__main__":` block
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
            return  # ... calling main(), whose asserts the run above exercises
    assert any(isinstance(node, ast.Assert) for node in ast.walk(last)), (
        f"{path.name} should end with asserts on the figures it shows"
    )


def test_runner_on_a_range(tmp_path):
    proc = run([RUNNER, "1", "2"], tmp_path)
    assert proc.returncode == 0, tail(proc)
    lines = proc.stdout.splitlines()
    assert re.match(r"step01\.py\s+ok\s+\d+\.\d+ s$", lines[0]), lines
    assert re.match(r"step02\.py\s+ok\s+\d+\.\d+ s$", lines[1]), lines
    assert re.match(r"2 passed, 0 failed in \d+\.\d+ s$", lines[-1]), lines
    assert len(lines) == 3


def test_runner_reports_failures_and_missing_dependencies(tmp_path):
    steps = tmp_path / "fake_steps"
    steps.mkdir()
    expected_out = str(tmp_path / "out")
    (steps / "step01.py").write_text(
        f"import os\nassert os.environ['DEZERO_STEPS_OUT'] == {expected_out!r}\nprint('fine')\n"
    )
    (steps / "step02.py").write_text(
        "print('working')\nassert 1 + 1 == 3, 'arithmetic is broken'\n"
    )
    (steps / "step03.py").write_text(
        "import sys\nprint('needs foo: pip install foo', file=sys.stderr)\nsys.exit(77)\n"
    )
    (steps / "notes.py").write_text("raise SystemExit('not a step, must not run')\n")
    proc = run([RUNNER, "--steps-dir", steps], tmp_path)
    out = proc.stdout
    assert proc.returncode == 1, out
    assert re.search(r"^step01\.py\s+ok\b", out, re.MULTILINE), out
    assert re.search(r"^step02\.py\s+FAILED \(exit status 1\)", out, re.MULTILINE), out
    assert "AssertionError: arithmetic is broken" in out and "working" in out  # the tail
    assert re.search(r"^step03\.py\s+MISSING DEPENDENCY", out, re.MULTILINE), out
    assert "pip install foo" in out
    assert "not a step" not in out
    assert re.search(
        r"^1 passed, 1 failed, 1 missing a dependency in \d+\.\d+ s$", out, re.MULTILINE
    ), out


def test_runner_rejects_unknown_steps(tmp_path):
    proc = run([RUNNER, "998", "999"], tmp_path)
    assert proc.returncode == 2
    assert "no step numbered 998 to 999" in proc.stderr
    proc = run([RUNNER, "stepX"], tmp_path)
    assert proc.returncode == 2 and "no step called 'stepX'" in proc.stderr


BLOCK_IMPORT = (
    "import runpy, sys; sys.modules[{module!r}] = None; "
    "runpy.run_path({path!r}, run_name='__main__')"
)


def test_digits_step_without_sklearn_says_how_to_install(tmp_path):
    path = STEPS_DIR / "step16.py"
    proc = run(["-c", BLOCK_IMPORT.format(module="sklearn", path=str(path))], tmp_path)
    assert proc.returncode == MISSING_DEPENDENCY, tail(proc)
    assert "pip install scikit-learn" in proc.stderr


def test_plotting_step_without_matplotlib_still_checks_its_figures(tmp_path):
    path = STEPS_DIR / "step14.py"
    proc = run(["-c", BLOCK_IMPORT.format(module="matplotlib", path=str(path))], tmp_path)
    assert proc.returncode == 0, tail(proc)
    assert "matplotlib is not installed" in proc.stdout
    assert not list((tmp_path / "out").glob("*.png"))


MAX_DIFF_LINES = 150  # steps/README.md states this bound


def framework_steps():
    """{number: path} of the steps that build their own framework (they define class Variable)."""
    return {
        int(STEP_NAME.fullmatch(p.name).group(1)): p
        for p in STEP_FILES
        if STEP_NAME.fullmatch(p.name) and "\nclass Variable" in p.read_text(encoding="utf-8")
    }


def test_consecutive_framework_steps_differ_by_a_small_diff():
    steps = framework_steps()
    pairs = [(n, n + 1) for n in sorted(steps) if n + 1 in steps]
    assert len(pairs) >= 20, (
        f"expected the from-scratch steps to form a long run, got {sorted(steps)}"
    )
    too_big = {}
    for a, b in pairs:
        old = steps[a].read_text(encoding="utf-8").splitlines()
        new = steps[b].read_text(encoding="utf-8").splitlines()
        changed = sum(
            1
            for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )
        if changed > MAX_DIFF_LINES:
            too_big[f"step{a:02d} -> step{b:02d}"] = changed
    assert not too_big, f"diffs larger than {MAX_DIFF_LINES} changed lines: {too_big}"
    text = (STEPS_DIR / "README.md").read_text(encoding="utf-8")
    assert f"more than {MAX_DIFF_LINES} lines" in text, "steps/README.md should state the bound"


@pytest.mark.parametrize(
    "name, dot_file", [("step26.py", "step26_diamond.dot"), ("step43.py", "step43_tanh_grad.dot")]
)
def test_picture_steps_without_graphviz_still_write_and_check_the_dot_text(
    name, dot_file, tmp_path
):
    proc = run([STEPS_DIR / name], tmp_path, extra_env={"PATH": str(tmp_path / "empty")})
    assert proc.returncode == 0, tail(proc)
    assert "Graphviz" in proc.stdout
    assert (tmp_path / "out" / dot_file).read_text(encoding="utf-8").startswith("digraph g {")
    assert not list((tmp_path / "out").glob("*.png"))
