"""The package as users get it: its version, written once, and the type hints it ships."""

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import dezero_lite as dz
import dezero_lite.functions as F

ROOT = Path(__file__).resolve().parent.parent


def pyproject_version():
    return re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def test_the_version_is_pyprojects_and_the_changelog_starts_with_it():
    assert dz.__version__ == importlib.metadata.version("dezero_lite") == pyproject_version()
    newest = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    assert newest == dz.__version__


def test_the_version_is_read_only_when_asked_for():
    # (importlib.metadata imports email, zipfile and more, which importing the package must not)
    code = (
        "import sys, dezero_lite; print('importlib.metadata' in sys.modules); "
        "print(dezero_lite.__version__); print('importlib.metadata' in sys.modules)"
    )
    assert python(code) == ["False", pyproject_version(), "True"]


def test_a_source_tree_that_was_never_installed_has_an_unknown_version():
    code = (
        "import importlib.metadata as m\n"
        "def not_installed(name): raise m.PackageNotFoundError(name)\n"
        "m.version = not_installed\n"
        "import dezero_lite; print(dezero_lite.__version__)"
    )
    assert python(code) == ["0+unknown"]  # PEP 440, and older than any release


@pytest.mark.slow  # (a few seconds: pip sets up setuptools in a build environment)
def test_the_wheel_ships_the_py_typed_marker(tmp_path):
    src = tmp_path / "src"  # a copy, so that the build leaves no build/ or egg-info here
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    shutil.copytree(
        ROOT / "dezero_lite", src / "dezero_lite", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(src),
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("dezero_lite-*.whl")
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
