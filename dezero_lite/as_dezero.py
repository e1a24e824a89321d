"""Run code written for DeZero unchanged: every `dezero` import gives dezero_lite.

    python -m dezero_lite.as_dezero script.py [args]     # a script, as `python script.py`
    import dezero_lite.as_dezero; dezero_lite.as_dezero.install()   # in a notebook

`import dezero`, `from dezero import Variable`, `import dezero.functions as F` then
resolve to the very same module objects as `dezero_lite`, `dezero_lite.functions`, ...
(not copies: `dezero.Variable is dezero_lite.Variable`). A real DeZero installed
beside it is never hidden unless asked for with force=True (`--force`).
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import warnings
from types import ModuleType

import dezero_lite

ALIAS, TARGET = "dezero", "dezero_lite"


class _SameModule(importlib.abc.Loader):
    """Loads dezero.X by handing over the module dezero_lite.X itself."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        self.own_spec = self.module.__spec__
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.own_spec  # the import system set the alias's spec on it


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Answers every import of dezero.X with dezero_lite.X, or says it does not exist."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith(ALIAS + "."):
            return None
        real = TARGET + name[len(ALIAS) :]
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name != real:  # the module exists but needs something missing
                raise
            raise ModuleNotFoundError(
                f"No module named {name!r}: dezero_lite has no module {real!r} to stand in for it",
                name=name,
            ) from None
        return importlib.util.spec_from_loader(name, _SameModule(module))


_finder = _AliasFinder()


def real_dezero() -> str | None:
    """Where a DeZero of its own is installed (its path), or None.

    Looks on sys.path directly, so the alias made by install() is not mistaken for it.
    """
    loaded = sys.modules.get(ALIAS)
    if loaded is not None and loaded is not dezero_lite:
        return getattr(loaded, "__file__", None) or repr(loaded)
    spec = importlib.machinery.PathFinder.find_spec(ALIAS)
    if spec is None:
        return None
    return spec.origin or ", ".join(spec.submodule_search_locations or ()) or ALIAS


def installed() -> bool:
    """True when `import dezero` gives dezero_lite."""
    return sys.modules.get(ALIAS) is dezero_lite


def install(force: bool = False) -> ModuleType:
    """Make `dezero` and every `dezero.X` import resolve to dezero_lite and dezero_lite.X.

    If a real DeZero is installed this raises RuntimeError and changes nothing, unless
    force=True, which hides it for this process and warns that it does.
    """
    other = real_dezero()
    if other is not None and not installed():
        if not force:
            raise RuntimeError(
                f"a real DeZero is installed ({other}), so `import dezero` gives it; "
                f"dezero_lite.as_dezero leaves it alone. Call install(force=True) (or pass "
                f"--force) to use dezero_lite under the name dezero in this process anyway"
            )
        warnings.warn(
            f"dezero_lite now stands in for the DeZero installed at {other} "
            f"in this process: `import dezero` gives dezero_lite",
            stacklevel=2,
        )
        for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
            del sys.modules[name]
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    sys.modules[ALIAS] = dezero_lite
    for name, module in list(sys.modules.items()):  # the submodules loaded so far
        if name.startswith(TARGET + ".") and module is not None:
            sys.modules.setdefault(ALIAS + name[len(TARGET) :], module)
    return dezero_lite


def uninstall() -> None:
    """Undo install(): `import dezero` looks for a real DeZero again."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name, module in list(sys.modules.items()):
        if (
            (name == ALIAS or name.startswith(ALIAS + "."))
            and module is not None
            and getattr(module, "__name__", "").startswith(TARGET)
        ):
            del sys.modules[name]


USAGE = """usage: python -m dezero_lite.as_dezero [--force] script.py [args ...]

Runs script.py as `python script.py args` would, with every `import dezero` and
`import dezero.X` giving dezero_lite and dezero_lite.X. If a real DeZero is installed,
it is left alone unless --force is given."""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    force = bool(argv) and argv[0] == "--force"
    if force:
        argv.pop(0)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    script = argv[0]
    if not os.path.isfile(script):
        print(f"as_dezero: no script {script!r} to run\n\n{USAGE}", file=sys.stderr)
        return 2
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python script.py` sets it
    other = real_dezero()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # said on stderr below instead
            install(force=force)
    except RuntimeError as e:
        print(f"as_dezero: {e}", file=sys.stderr)
        return 2
    if other is not None:
        print(
            f"as_dezero: dezero_lite stands in for the DeZero installed at {other}", file=sys.stderr
        )
    sys.argv = argv
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
