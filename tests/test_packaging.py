"""The package as users get it: the type hints it ships."""
import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import dezero_lite.functions as F

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # (a few seconds: pip sets up setuptools in a build environment)
def test_the_wheel_ships_the_py_typed_marker(tmp_path):
    src = tmp_path / "src"  # a copy, so that the build leaves no build/ or egg-info here
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    shutil.copytree(ROOT / "dezero_lite", src / "dezero_lite",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q",
                    "-w", str(tmp_path / "dist")], check=True)
    wheel, = (tmp_path / "dist").glob("dezero_lite-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "dezero_lite/py.typed" in names and "dezero_lite/_typing.py" in names


def test_type_checkers_are_told_of_every_operator_and_method_bound_to_variable():
    """functions.py binds them at import, which type checkers cannot see: core.py declares
    each one for them in an `if TYPE_CHECKING:` block at the end of the Variable class."""
    tree = ast.parse((ROOT / "dezero_lite" / "core.py").read_text())
    variable = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Variable")
    block = variable.body[-1]
    assert isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
    declared = {n.name for n in block.body if isinstance(n, ast.FunctionDef)}
    declared |= {t.id for n in block.body if isinstance(n, ast.Assign) for t in n.targets}
    assert set(F._VARIABLE_METHODS) - declared == set()
