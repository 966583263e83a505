"""Files that appear complete or not at all, for channels that deliver into a folder.

Whoever picks files up (an agency's intake job, a mail system watching a folder) must never read
half a file: the data goes to a hidden temporary file next to the target (``.<name>.<random>``
plus a suffix), is flushed to disk, and then replaces the target in one rename.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and flush it to disk before returning."""
    with path.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_atomically(path: Path, data: bytes, *, suffix: str = ".tmp") -> None:
    """Write ``data`` to ``path`` so that the file is either absent, old, or complete and new.

    The temporary file ends in ``suffix``; it is removed when the write fails.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    try:
        write_durably(Path(temporary), data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def prepare_folder(folder: Path) -> None:
    """Create ``folder`` if needed and prove a file can be written in it; ``OSError`` if not."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / ".dunning-write-test"
    write_atomically(probe, b"")
    probe.unlink()
