"""Writing files so that a crash never leaves a half-written one in place of a good one."""
import os
import tempfile


def atomic_write(path, fill):
    """Make path by calling fill(tmp) on a temporary file in the same folder, then renaming it.

    The rename replaces the old file in one step; if fill fails, the old file is
    untouched and the temporary one is removed. Concurrent writers never share a
    temporary name.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist; "
                                f"create it first")
    # mkstemp makes a private file: give it the old file's mode, or the usual rw-r--r--
    mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    try:
        fill(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path

