"""The README's Python examples run as written and print what they say they print."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.S | re.M)
NEEDS_DOT = "plot_dot_graph"  # a block that renders needs Graphviz's dot program


def run_block(code, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def check_first_example(out, tmp_path):
    assert "variable(3.297442541400256)" in out


def check_training(out, tmp_path):
    accuracies = dict(re.findall(r"^(training|test) accuracy (\d\.\d+)$", out, re.M))
    assert set(accuracies) == {"training", "test"}, out
    assert float(accuracies["training"]) > 0.95 and float(accuracies["test"]) > 0.95, accuracies
    assert (tmp_path / "spiral.npz").stat().st_size > 0
    assert "MLP(activation=relu)" in out and "# 183 parameters" in out


def check_graph(out, tmp_path):
    assert out.startswith("digraph g {")
    assert (tmp_path / "tanh_grad.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Tanh" in (tmp_path / "tanh_grad.dot").read_text(encoding="utf-8")


CHECKS = {  # a line that identifies the block -> what its output must show
    "y = F.square(F.exp(F.square(x)))": check_first_example,
    "for x, t in DataLoader(train_set": check_training,
    'plot_dot_graph(gx, verbose=False, to_file="tanh_grad.png"': check_graph,
}


def test_readme_has_the_examples_this_file_checks():
    assert len(BLOCKS) >= 3
    assert any("DataLoader(" in block and "accuracy" in block for block in BLOCKS), (
        "the training example should say how well it trained"
    )


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs_and_does_what_it_says(code, tmp_path):
    if NEEDS_DOT in code and shutil.which("dot") is None:
        pytest.skip("this example renders a picture with Graphviz's dot, which is not on PATH")
    proc = run_block(code, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for marker, check in CHECKS.items():
        if marker in code:
            check(proc.stdout, tmp_path)
