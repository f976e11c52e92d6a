"""Atomic writes: a crash leaves the previous file or the new one, never half of one.

Everything the package writes for the user (checkpoints, histories, tuning results,
class indexes, converted models, pictures) goes through :func:`atomic_path`: the data
is written to a temp file in the destination's directory (so the rename cannot cross a
file system), flushed, then moved over the destination with ``os.replace``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time

__all__ = ["atomic_path", "atomic_dir", "atomic_write", "atomic_save_model", "directory_lock",
           "DirectoryBusy", "WriteFailed", "check_writable", "sweep_temp_files"]


class WriteFailed(ValueError):
    """A write the disk refused (full, read-only, no permission): one line naming the
    path and the reason. The temp file is gone and the previous file untouched."""


def _reason(err):
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]


def _failed(path, err):
    return WriteFailed(f"cannot write {path}: {_reason(err)} (the previous file, if any, is "
                       "kept)")


def check_writable(directory, what="--output"):
    """Fail early, before any work, when ``directory`` (or the folder that would hold
    it) cannot take a file: probes with a real temp file, since permission bits do not
    stop root while a read-only mount does."""
    directory = os.path.abspath(os.fspath(directory))
    probe_dir = directory
    while not os.path.isdir(probe_dir):
        if os.path.exists(probe_dir):
            raise WriteFailed(f"{what} {directory!r}: {probe_dir!r} is a file, not a folder")
        parent = os.path.dirname(probe_dir)
        if parent == probe_dir:
            break
        probe_dir = parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".write-probe.", dir=probe_dir)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise WriteFailed(f"{what} {directory!r} is not writable: {_reason(err)}") from None
    return directory


def _umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp"):
    """Yield a temp path beside ``path``; on success it replaces ``path``, on any error
    (KeyboardInterrupt included) it is removed. ``suffix`` matters to writers that read
    the format from the name (``.keras``, ``.png``)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix,
                                   dir=directory)
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; give it the usual mode
    except OSError as err:
        raise _failed(path, err) from None
    try:
        try:
            yield tmp
            os.replace(tmp, path)
        except OSError as err:  # ENOSPC, EROFS, EDQUOT...: one line, not a traceback
            raise _failed(path, err) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_dir(path):
    """Yield an empty temp folder beside ``path`` (a SavedModel, say); on success it
    takes the place of ``path`` (an existing one is moved aside first, then removed), on
    any error it is removed. Readers see the old folder or the new one, never a mix."""
    path = os.path.abspath(os.fspath(path))
    parent, base = os.path.dirname(path), os.path.basename(path)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{base}.", dir=parent)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's folder is private; give it the usual mode
    except OSError as err:
        raise _failed(path, err) from None
    try:
        try:
            yield tmp
            if os.path.exists(path):
                old = tempfile.mkdtemp(prefix=f".{base}.old.", dir=parent)
                os.rename(path, os.path.join(old, base))
                os.rename(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, path)
        except OSError as err:
            raise _failed(path, err) from None
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def atomic_write(path, data, mode="w"):
    """Write ``data`` (``str`` with ``mode="w"``, ``bytes`` with ``"wb"``) to ``path``."""
    with atomic_path(path) as tmp:
        with open(tmp, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return path


def atomic_save_model(model, path):
    """``model.save(path)`` for a ``.keras`` file, atomically."""
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


class DirectoryBusy(ValueError):
    """Another live process holds the folder's lock (a second run into one --output)."""


LOCK_FILE = ".lock"


@contextlib.contextmanager
def directory_lock(directory, what="--output", lock_name=LOCK_FILE, label=None):
    """Hold ``directory``'s lock (an exclusive ``flock`` on ``directory/.lock``) for the
    block: a second process asking for it gets :class:`DirectoryBusy` at once, naming
    the holder's pid. The operating system drops the lock when its holder dies (a killed
    run leaves no stale lock); the file is removed on the way out, and the folder too if
    the block created it and left it empty. ``lock_name`` / ``label``: another lock file
    in that folder (one per export target, say) and the name the message gives."""
    import fcntl

    directory = os.fspath(directory)
    created = not os.path.isdir(directory)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, lock_name)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # The holder writes its pid just after it takes the lock: give it a moment.
            holder = ""
            for _ in range(50):
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                if holder:
                    break
                time.sleep(0.01)
            holder = holder or "unknown"
            os.close(fd)
            raise DirectoryBusy(f"{what} {label or directory!r} is in use by another run (pid "
                                f"{holder}); wait for it to finish, or choose another "
                                f"{what}") from None
        # The holder before us may have removed the file between our open and our lock:
        # then we hold a lock on a name nobody sees; take the current file instead.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        os.close(fd)
        if created and not os.listdir(directory):
            os.rmdir(directory)  # a run refused before writing leaves no empty folder


#: The random part mkstemp / mkdtemp put in our temp names, and the suffixes we use.
_RANDOM = r"\.(?:old\.)?[a-z0-9_]{8}(?:\.tmp|\.keras|\.png|\.weights\.h5|\.tflite|\.onnx)?"


def sweep_temp_files(directory, names, patterns=()):
    """Remove the temp files and folders that :func:`atomic_path` / :func:`atomic_dir`
    left in ``directory`` when a killed process could not: only ``.NAME.<random>SUFFIX``
    and ``.NAME.old.<random>`` for the given target ``names`` (or regex ``patterns`` of
    names), never anything else. Call it while holding the folder's lock. Returns the
    removed paths."""
    alternatives = [re.escape(n) for n in names] + list(patterns)
    if not alternatives:
        return []
    ours = re.compile(rf"^\.(?:{'|'.join(alternatives)}){_RANDOM}$")
    removed = []
    try:
        entries = os.listdir(directory)
    except OSError:
        return removed
    for name in entries:
        if not ours.match(name):
            continue
        p = os.path.join(directory, name)
        try:
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
            removed.append(p)
        except OSError:
            pass
    return removed
