"""The app's files on the server, with no Streamlit in them (so each is tested on its own).

Layout under the cache folder, one folder per upload, named by its content hash:
    KEY/input.EXT        the upload
    KEY/track.npz        its pose track (any exercise reuses it)
    KEY/errors.json      why it could not be analysed, per exercise ("*": before any exercise)
    KEY/<exercise>/      a result folder (formcheck.results: complete or absent)
    KEY/compare/<exercise>/compare_A_B.mp4
The folder's modification time is its last use; the retention sweep deletes it after N days.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import time

from .results import atomic_path, atomic_write_json, sha256
from .types import PoseTrack

_HASHES: dict[tuple, str] = {}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cache_dir() -> str:
    """Where the app keeps uploads and results: FORMCHECK_CACHE, else .formcheck_cache in the checkout."""
    return os.environ.get("FORMCHECK_CACHE", os.path.join(ROOT, ".formcheck_cache"))


def file_key(path: str) -> str:
    """Content hash of a file, computed once per (path, size, mtime) in this process."""
    st = os.stat(path)
    memo = (os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if memo not in _HASHES:
        _HASHES[memo] = sha256(path, 20)
    return _HASHES[memo]


def stash_upload(upload, cache: str) -> tuple[str, str]:
    """Copy an uploaded file (a binary file object with .name) into the cache under its content
    hash, through the same Receiver the upload route uses: its own temporary file per upload, so
    concurrent sessions never share one, hashed as it streams, then one rename. Returns (stored
    path, key)."""
    r = Receiver(cache, upload.name, max_bytes=1 << 62)
    try:
        upload.seek(0)
        for chunk in iter(lambda: upload.read(1 << 20), b""):
            r.write(chunk)
        return r.finish()
    except BaseException:
        r.abort()
        raise


VIDEO_EXTS = (".mp4", ".mov", ".m4v", ".mkv", ".webm")


def stored_name(cache: str, key: str, name: str) -> str:
    return os.path.join(cache, key, "input" + (os.path.splitext(name)[1].lower() or ".mp4"))


class Receiver:
    """An upload written to disk as it arrives, hashed on the way: for the app's own upload route
    (formcheck/serve.py), which hands the body over in chunks and never holds it whole.

        r = Receiver(cache, name, max_bytes); r.write(chunk) ...; path, key = r.finish()
    Any failure (too big, the client gone, a full disk): r.abort() leaves nothing behind."""

    def __init__(self, cache: str, name: str, max_bytes: int):
        os.makedirs(cache, exist_ok=True)
        self.cache, self.name, self.max_bytes = cache, name, max_bytes
        fd, self.tmp = tempfile.mkstemp(prefix=".upload-", dir=cache)
        self.fh = os.fdopen(fd, "wb")
        self.h = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise ValueError(f"larger than {self.max_bytes >> 20} MB")
        self.h.update(chunk)
        self.fh.write(chunk)

    def finish(self) -> tuple[str, str]:
        self.fh.close()
        key = self.h.hexdigest()[:20]
        dst = stored_name(self.cache, key, self.name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.exists(dst) and sha256(dst, 20) == key:
            os.remove(self.tmp)
        else:
            os.replace(self.tmp, dst)
        return dst, key

    def abort(self) -> None:
        self.fh.close()
        if os.path.exists(self.tmp):
            os.remove(self.tmp)


# Upload tickets: the page gets one per session from the app script and the upload route accepts
# only a live one, so another web page cannot push files into a server running on your machine.
_TICKETS: dict[str, float] = {}
_TICKET_LOCK = threading.Lock()
TICKET_S = 24 * 3600


def new_ticket() -> str:
    t = secrets.token_urlsafe(24)
    with _TICKET_LOCK:
        now = time.time()
        for k in [k for k, v in _TICKETS.items() if v < now]:
            del _TICKETS[k]
        _TICKETS[t] = now + TICKET_S
    return t


def valid_ticket(t: str | None) -> bool:
    with _TICKET_LOCK:
        return bool(t) and _TICKETS.get(t, 0) > time.time()


def touch(cache: str, key: str) -> None:
    """Mark an upload as used now (the retention clock restarts)."""
    os.makedirs(os.path.join(cache, key), exist_ok=True)
    os.utime(os.path.join(cache, key))


def sweep(cache: str, days: float, now: float | None = None) -> int:
    """Delete uploads and their results not used for `days`; returns how many."""
    if not os.path.isdir(cache):
        return 0
    limit = (time.time() if now is None else now) - days * 86400
    gone = 0
    for name in os.listdir(cache):
        p = os.path.join(cache, name)
        try:
            if os.path.getmtime(p) < limit:
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
                gone += 1
        except OSError:
            pass
    return gone


def delete(cache: str, key: str) -> None:
    shutil.rmtree(os.path.join(cache, key), ignore_errors=True)


def _errors_path(cache: str, key: str) -> str:
    return os.path.join(cache, key, "errors.json")


def cached_error(cache: str, key: str, exercise: str) -> str | None:
    """The message a clip failed with before, for this exercise or before any exercise."""
    try:
        with open(_errors_path(cache, key)) as fh:
            e = json.load(fh)
        return e.get(exercise) or e.get("*")
    except (OSError, ValueError, AttributeError):
        return None


def cache_error(cache: str, key: str, exercise: str, message: str) -> None:
    """A clip that cannot be analysed fails the same way next time: keep the answer, not the work.
    (Only FormcheckError messages: a property of the file, not of the server's state.)"""
    try:
        with open(_errors_path(cache, key)) as fh:
            e = json.load(fh)
    except (OSError, ValueError):
        e = {}
    e[exercise] = message
    try:
        os.makedirs(os.path.join(cache, key), exist_ok=True)
        atomic_write_json(_errors_path(cache, key), e)
    except OSError:
        pass  # no room: the next visit finds the same error again


def load_track(cache: str, key: str) -> PoseTrack | None:
    """The cached pose track, or None; a damaged one (a full disk, a kill) is deleted."""
    p = os.path.join(cache, key, "track.npz")
    if not os.path.exists(p):
        return None
    try:
        track = PoseTrack.load(p)
    except Exception:
        os.remove(p)
    else:
        from . import subject
        m = subject.motion(track)
        if track.plates is None or (m.still and not subject.decided(track.subject_note)):
            # cached before tracks carried plate candidates (without them no joint is gated), or
            # before the subject check (a still bystander may be the one tracked): track again
            os.remove(p)
            return None
        if not subject.decided(track.subject_note):
            track.subject_note = subject.choose(track, None)[1]  # a moving subject: say so in today's words
        return track


def shipped_track(video: str) -> str:
    """Where a bundled sample's pose track lives: beside the clip (sample_videos/x.track.npz)."""
    return os.path.splitext(video)[0] + ".track.npz"


def seed_track(cache: str, key: str, video: str) -> bool:
    """A bundled sample opens instantly: its shipped pose track goes into the cache, so the app
    goes straight to the analysis (tests/test_synthetic.py keeps the shipped tracks equal to a
    fresh extraction; `python -m formcheck.bench sample-tracks` rewrites them)."""
    src = shipped_track(video)
    if not os.path.exists(src) or os.path.exists(os.path.join(cache, key, "track.npz")):
        return False
    try:
        save_track(cache, key, PoseTrack.load(src))
        return True
    except Exception:  # a damaged shipped track: pose runs as for any clip
        return False


def save_track(cache: str, key: str, track: PoseTrack) -> None:
    """Written beside its final name and renamed: whole or absent."""
    try:
        with atomic_path(os.path.join(cache, key, "track.npz")) as tmp:
            track.save(tmp)
    except OSError:
        pass  # no room to cache: the next visit runs pose again
