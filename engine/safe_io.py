"""The command line's guarantees about files and failures (issue 17).

- ``check_output(path)``: the output path is checked before a run starts (its directory exists and is
  writable, it is not a directory), so a long review never fails at its last step.
- ``atomic_output(path)``: a report is written to a temporary file in the same directory and renamed over
  the target only when complete: a failed run never leaves a 0-byte or half-written report.
- ``internal_error(exc)``: an unexpected failure is one line on the terminal (exit code 3, distinct from
  1 = findings / refused / overdue and 2 = bad input or usage) and the traceback goes to a log file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

from .errors import CasecheckError

__all__ = ["EXIT_INTERNAL", "OutputError", "check_output", "atomic_output", "internal_error", "log_dir"]

EXIT_INTERNAL = 3


class OutputError(CasecheckError):
    """The output path cannot be written (bad usage: exit 2, before any work is done)."""


def check_output(path: Optional[Path]) -> None:
    if path is None:
        return
    if path.is_dir():
        raise OutputError(f"{path}: 是目录，不是文件 / is a directory, not a file (-o names the report file)")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: 目录 {parent} 不存在 / the directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: 目录 {parent} 不可写 / cannot write in {parent}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{path}: 文件不可写 / the file exists and is not writable")


@contextmanager
def atomic_output(path: Optional[Path]) -> Iterator[Optional[Path]]:
    """Yields a temporary path next to ``path`` (same suffix) and renames it to ``path`` on success;
    removes it on failure. ``None`` (the terminal) passes through."""
    if path is None:
        yield None
        return
    check_output(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp_path, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def log_dir() -> Path:
    return Path(os.environ.get("CASECHECK_LOG_DIR") or tempfile.gettempdir())


def internal_error(exc: BaseException) -> str:
    """Write the traceback to a log file; the one line to show (the log's path in it)."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    where = log_dir() / f"casecheck-error-{stamp}-{os.getpid()}.log"
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        shown = str(where)
    except OSError:
        shown = "（日志无法写入 / the log could not be written）"
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return (f"内部错误 / internal error: {type(exc).__name__}: {first} — 详情 / details: {shown}")
