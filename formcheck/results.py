"""Result folders that are complete or absent, never half-written or mixed.

A result folder holds the files of one analysis and, written last, a completion marker that
lists each file with its size and SHA-256. A folder without a valid marker is not a result:
`load` says so and `discard` clears it, so a crash, a full disk or a kill at any moment costs a
re-run, never a permanently broken or mixed result.

Writing (`ResultWriter`): the folder is created and checked writable, and locked, before any
work starts; files are written into a hidden temporary folder *inside* it (same filesystem, so
the final moves are renames even when the folder is a mount point); on commit the old marker
goes first, then every file of the previous result, then the new files move in and the marker is
written. Two runs into one folder cannot interleave: the second is refused while the first
holds the lock.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from typing import Any

from .types import FormcheckError

MARKER = ".formcheck-complete.json"
LOCK = ".formcheck.lock"
TMP_PREFIX = ".formcheck-tmp-"
FORMAT = 1
# What a formcheck run may have left in a result folder; anything else is the user's and is
# never deleted: a folder holding other files is refused.
OWN_FILES = ("report.json", "frames.csv", "reps.csv", "annotated.mp4", "report.pdf", "error.json")


def _own(name: str) -> bool:
    return name in OWN_FILES or name in (MARKER, LOCK) or name.startswith(TMP_PREFIX)


def sha256(path: str, n: int | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:n] if n else h.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str):
    """A temporary file name beside `path`, with its extension (an encoder or np.savez picks its
    format by it), for a writer that wants a name: renamed over `path` when the block ends
    without an error, removed whatever happens. `path` is then whole or absent (or as before)."""
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=os.path.splitext(path)[1], dir=d)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove(tmp)  # gone already after the rename


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write path in one step: a temporary file beside it, flushed, then renamed over it."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_json(path: str, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode())


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)
    except FileNotFoundError:
        pass


def check_out_dir(out_dir) -> str:
    """The folder as an absolute path, or a clear error for what cannot be one."""
    if out_dir is None or not isinstance(out_dir, (str, os.PathLike)) or not os.fspath(out_dir).strip():
        raise FormcheckError(f"The output folder must be a folder path, not {out_dir!r}.")
    return os.path.abspath(os.fspath(out_dir))


def _os_error(out_dir: str, e: OSError) -> FormcheckError:
    why = {errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EROFS: "read-only filesystem",
           errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is full",
           errno.ENOTDIR: "a file of that name is in the way"}.get(e.errno, e.strerror or e.__class__.__name__)
    return FormcheckError(f"Cannot write results to '{out_dir}': {why}.")


def load(out_dir: str, deep: bool = True) -> dict | None:
    """The marker of a complete result folder, or None if the folder holds no valid result
    (missing, unfinished, truncated or altered). deep: check every file's hash too, not only
    its size (a few hundred MB/s)."""
    try:
        with open(os.path.join(out_dir, MARKER)) as fh:
            marker = json.load(fh)
        if marker.get("format") != FORMAT:
            return None
        for name, meta in marker["files"].items():
            p = os.path.join(out_dir, name)
            if os.path.getsize(p) != meta["size"] or (deep and sha256(p) != meta["sha256"]):
                return None
        with open(os.path.join(out_dir, "report.json")) as fh:
            json.load(fh)
        return marker
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def discard(out_dir: str) -> None:
    """Remove a result (the marker first, so a kill half-way leaves an invalid folder, not a
    different valid one). The user's own files are left alone."""
    if not os.path.isdir(out_dir):
        return
    _remove(os.path.join(out_dir, MARKER))
    for name in os.listdir(out_dir):
        if name in OWN_FILES and os.path.isfile(os.path.join(out_dir, name)):
            _remove(os.path.join(out_dir, name))


class ResultWriter:
    """with ResultWriter(out_dir, source) as w: write files into w.tmp, then w.commit().

    Leaving the block without commit() (an error, Ctrl-C) removes the temporary folder and
    leaves the previous result, if any, as it was."""

    def __init__(self, out_dir, source: str = "", source_path: str = ""):
        self.out_dir = check_out_dir(out_dir)
        self.source, self.source_path = source, source_path
        self.tmp: str | None = None
        self._lock_fh = None
        self.replaced: str | None = None  # the source of the result this one replaced
        self._created = False              # the folder is ours to remove if nothing is committed
        self._committed = False

    def __enter__(self) -> "ResultWriter":
        out = self.out_dir
        try:
            self._created = not os.path.exists(out)
            os.makedirs(out, exist_ok=True)
            for _ in range(5):  # the lock file may be removed by an interrupted first run: lock the one on disk
                self._lock_fh = open(os.path.join(out, LOCK), "a")
                try:
                    fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._lock_fh.close()
                    self._lock_fh = None
                    raise FormcheckError(f"Another formcheck run is writing to '{out}' right now; "
                                         "wait for it or choose another output folder.") from None
                try:
                    if os.stat(os.path.join(out, LOCK)).st_ino == os.fstat(self._lock_fh.fileno()).st_ino:
                        break
                except FileNotFoundError:
                    pass
                self._lock_fh.close()
                self._lock_fh = None
            else:
                raise FormcheckError(f"Another formcheck run is writing to '{out}' right now; "
                                     "wait for it or choose another output folder.")
        except OSError as e:
            raise _os_error(out, e) from None
        try:
            foreign = sorted(n for n in os.listdir(out) if not _own(n))
            if foreign:
                raise FormcheckError(
                    f"'{out}' already holds files that are not a formcheck result ({', '.join(foreign[:3])}"
                    f"{', ...' if len(foreign) > 3 else ''}); choose an empty or new output folder.")
            for n in os.listdir(out):  # left by a run that was killed: we hold the lock, so nobody owns them
                if n.startswith(TMP_PREFIX):
                    _remove(os.path.join(out, n))
            old = load(out, deep=False)
            if old is not None and (old.get("source_path") != self.source_path or not self.source_path):
                self.replaced = old.get("source")
            self.tmp = tempfile.mkdtemp(prefix=TMP_PREFIX, dir=out)  # also proves the folder is writable
        except OSError as e:
            self._release()
            raise _os_error(out, e) from None
        except BaseException:
            self._release()
            raise
        return self

    def path(self, name: str) -> str:
        return os.path.join(self.tmp, name)

    def commit(self, extra: dict | None = None) -> dict:
        """Replace whatever result the folder held by the files in tmp, marker last."""
        files = {}
        for name in sorted(os.listdir(self.tmp)):
            p = os.path.join(self.tmp, name)
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
            files[name] = {"size": os.path.getsize(p), "sha256": sha256(p)}
        marker = {"format": FORMAT, "source": self.source, "source_path": self.source_path, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "files": files, **(extra or {})}
        try:
            _remove(os.path.join(self.out_dir, MARKER))
            for n in os.listdir(self.out_dir):  # the previous result's files; never a folder, never the user's
                if n in OWN_FILES and os.path.isfile(os.path.join(self.out_dir, n)):
                    _remove(os.path.join(self.out_dir, n))
            for name in files:
                os.replace(os.path.join(self.tmp, name), os.path.join(self.out_dir, name))
            atomic_write_json(os.path.join(self.out_dir, MARKER), marker)
        except OSError as e:
            raise _os_error(self.out_dir, e) from None
        self._committed = True
        return marker

    def _release(self) -> None:
        if self.tmp:
            _remove(self.tmp)
            self.tmp = None
        if self._lock_fh is not None:
            if self._created and not self._committed:  # an interrupted first run leaves no empty folder
                _remove(os.path.join(self.out_dir, LOCK))
                try:
                    os.rmdir(self.out_dir)
                except OSError:
                    pass
            try:
                fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            finally:
                self._lock_fh.close()
                self._lock_fh = None

    def __exit__(self, *exc) -> None:
        self._release()
