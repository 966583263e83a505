"""File delivery: each message becomes one ``.eml`` file in a folder (for previews, for a mail
system that picks files up, and for tests).

The file name is derived from the idempotency key only, and files are written atomically (a
temporary file, then ``os.replace``): sending the same message again overwrites its file instead
of adding a second one, and a reader never sees half a message.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

from dunning.channels.email.message import Builder
from dunning.core.channel import OutgoingMessage
from dunning.core.errors import SendError
from dunning.core.files import prepare_folder as prepare_folder
from dunning.core.files import write_atomically
from dunning.core.models import Receipt

UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def eml_name(idempotency_key: str) -> str:
    """A safe, stable file name for a key: readable prefix plus a hash that keeps it unique."""
    readable = UNSAFE.sub("_", idempotency_key).strip("._")[:80] or "message"
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}.eml"


class FileConnection:
    """Writes messages to ``folder`` (see :class:`dunning.core.channel.Connection`)."""

    def __init__(self, folder: Path, build: Builder) -> None:
        self.folder = folder
        self.build = build

    def open(self) -> None:
        """Create the folder; raises :class:`SendError` when it cannot be written."""
        try:
            prepare_folder(self.folder)
        except OSError as exc:
            raise SendError(
                f"cannot write email files to {self.folder}: {exc.strerror or exc}; "
                "check the channel's 'folder' and its permissions",
                retryable=False,
            ) from None

    def send(self, message: OutgoingMessage) -> Receipt:
        """Write ``message`` as ``<folder>/<name from key>.eml``; same key, same file."""
        built = self.build(message)
        data = built.as_bytes()
        path = self.folder / eml_name(message.idempotency_key)
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise SendError(
                f"cannot write {path}: {exc.strerror or exc}; check free disk space and "
                "permissions (it will be retried)",
                retryable=True,
            ) from None
        return Receipt(
            provider_message_id=built.message_id,
            accepted_at=datetime.now(UTC),
            detail=f"written to {path}",
        )
