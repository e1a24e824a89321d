"""Writing files so that a crash never leaves a half-written one in place of a good one."""

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Callable


def _temp_names(folder, base):
    """Temporary files of earlier saves of base: '.<base>.<pid>.<random>.tmp'."""
    pattern = re.compile(re.escape("." + base + ".") + r"(\d+)\.[0-9a-f]{8}\.tmp")
    for name in os.listdir(folder):
        m = pattern.fullmatch(name)
        if m:
            yield os.path.join(folder, name), int(m.group(1))


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _fsync(path, flags=os.O_RDONLY):
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], fill: Callable[[str], object]) -> str:
    """Make path by calling fill(tmp) on a temporary file in the same folder, then renaming it.

    The rename replaces the old file in one step, after the data reached the disk
    (fsync), and the folder is synced after it; if fill fails, the old file is
    untouched and the temporary one is removed. A read-only file is refused, a
    symbolic link has its target replaced, a new file gets the mode a plain open()
    would give (the umask applies), an old file keeps its mode. Temporary files
    left by a killed process are removed by the next save of the same file.
    """
    shown = path = os.fspath(path)
    path = os.path.realpath(path)  # write through a symlink to its target
    folder, base = os.path.split(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"cannot write {shown}: the folder {folder} does not exist; create it first"
        )
    old_mode = None
    if os.path.exists(path):
        st = os.stat(path)
        old_mode = stat.S_IMODE(st.st_mode)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(f"cannot write {shown}: it exists and is not a regular file")
        if not old_mode & stat.S_IWUSR or not os.access(path, os.W_OK):
            raise PermissionError(
                f"cannot write {shown}: the file is read-only; make it "
                f"writable (chmod u+w) or choose another name"
            )
    for tmp, pid in _temp_names(folder, base):
        if pid != os.getpid() and not _alive(pid):
            with contextlib.suppress(OSError):
                os.remove(tmp)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
    except PermissionError:
        raise PermissionError(
            f"cannot write {shown}: the folder {folder} is not writable; choose another folder"
        ) from None
    try:
        fill(tmp)
        if old_mode is not None:
            os.chmod(tmp, old_mode)
        _fsync(tmp)
        os.replace(tmp, path)
        # Some file systems cannot sync a folder; the rename is done.
        with contextlib.suppress(OSError):
            _fsync(folder)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return shown
