"""Files that hold secrets, for their owner only, whatever the umask (docs/security.md, "File modes").

MLSEC_HOME and the folders in it are 0700; databases, logs, the credentials file and the service token
file are 0600. A path is created with its mode and then `chmod`ed to it (the umask can only narrow what
`mkdir` and `open` are asked for, and it may also be too wide), and a path found with group or other
permissions, e.g. written by an older version, is tightened. A path that cannot be tightened (not ours,
a read-only file system) is left as it is, with a warning in the log, rather than stopping a service.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
_NOT_OWNER = 0o077  # group and other permissions

logger = logging.getLogger("mlsec.files")


def tighten(path: Path) -> None:
    """Take a path that exists private (a folder 0700, a file 0600) when anyone but its owner has a permission
    on it; nothing when it does not exist."""
    with contextlib.suppress(FileNotFoundError):
        _tighten(path, PRIVATE_DIR_MODE if path.is_dir() else PRIVATE_FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    """Give an existing path `mode` when anyone but its owner has a permission on it."""
    current = stat.S_IMODE(path.stat().st_mode)
    if not current & _NOT_OWNER:
        return
    try:
        path.chmod(mode)
    except OSError as exc:
        logger.warning(
            "files.mode.not_private",
            extra={"path": str(path), "mode": oct(current), "error_type": type(exc).__name__},
        )


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner may use (0700): created when missing, with the missing folders above
    it (0700 as well), tightened when found wider; the path."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process of the platform made it first
            folder.mkdir(mode=PRIVATE_DIR_MODE)
            folder.chmod(PRIVATE_DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """`path` as a file only its owner may read and write (0600): created empty when missing (its folder
    must exist), tightened when found wider; the path, to open as usual."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        _tighten(path, PRIVATE_FILE_MODE)
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step (a sibling written, synced, renamed), readable by its owner
    only (0600), in a private folder (created when missing)."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
