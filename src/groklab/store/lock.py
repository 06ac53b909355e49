"""One writer at a time per store: an exclusive `flock` on STORE/.lock.

The process that plans and commits chunks (execute_plan's process; its worker processes write
under its lock) or writes a measurement table holds the lock for the whole run. A second writer
waits, saying once on stderr whose lock it waits for, and plans only after it got the lock: two
sweeps started together on one store end with every trial exactly once (the second finds the
first's trials done). The kernel releases the lock when its holder exits, killed or not, so a
dead writer never blocks the store; and while the lock is held no other writer is alive, which is
what makes `Store.recover()` safe. The lock is re-entrant within a process.

`flock` is advisory and local to one machine's kernel: on network file systems that do not
forward it (some NFS set-ups), two hosts are not kept apart.
"""
from __future__ import annotations

import fcntl
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from groklab.store.layout import LOCK_NAME

# lock file -> (open descriptor, depth): re-entry within one process must not flock again (a second
# descriptor of the same file would wait for the first forever).
_held: dict[Path, tuple[int, int]] = {}
_guard = threading.Lock()


def holder(lock_path: Path) -> str:
    """'pid N on host H' as the holder wrote it (it writes just after locking: retry briefly)."""
    for _ in range(20):
        try:
            text = lock_path.read_text().strip()
        except OSError:
            text = ""
        if text:
            pid, _, host = text.partition(" ")
            return f"pid {pid} on host {host or '?'}"
        time.sleep(0.05)
    return "another process"


def in_use(root: Path) -> str | None:
    """Who holds the store's writer lock ('pid N on host H'), or None if nobody (or we) do."""
    path = root / LOCK_NAME
    if not path.exists() or path.resolve() in _held:
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)  # shared: never blocks another tester
    except BlockingIOError:
        return holder(path)
    finally:
        os.close(fd)
    return None


def _say_on_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def writer_lock(root: Path, announce: Callable[[str], None] = _say_on_stderr) -> Iterator[None]:
    """Hold the store's writer lock for the `with` block, waiting for another writer if need be."""
    root.mkdir(parents=True, exist_ok=True)
    path = (root / LOCK_NAME).resolve()
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if not reentered:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            announce(f"store {root} is in use by {holder(path)}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        with _guard:
            _held[path] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[path]
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                del _held[path]
                os.ftruncate(fd, 0)  # no stale "in use by" for the next waiter to read
                os.close(fd)  # closing the last descriptor releases the flock
