"""Delivering letters: a PDF in the print outbox, and optionally an email to a print service.

Each letter is ``<folder>/<date sent>/<key>.pdf``, ``<key>`` being the message's idempotency key
made safe for a file name. It is written atomically (see :mod:`dunning.core.files`), so whoever
prints from the folder never sees half a file; names starting with a dot are temporary.

A letter is written once per key: sending the same key again, on any later day, finds the
existing file and returns the same receipt (its path, relative to the folder, and when it was
written), so a retried message never gives a second letter. With a print service, the email's
``Message-ID`` is kept next to the PDF in ``.<name>.mailed``, so the email too goes once; only a
crash between the server's acceptance and that note sends it again, with the same
``Message-ID``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path

from dunning.channels.letter.print_service import PrintMailer
from dunning.core.errors import SendError
from dunning.core.files import prepare_folder, write_atomically
from dunning.core.models import Receipt

UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100
PARTIAL = ".partial"


def safe_name(key: str) -> str:
    """A file name stem for ``key``: itself when already safe and short, else a readable part
    plus a hash of the key, so different keys never share a name."""
    readable = UNSAFE.sub("_", key).strip("._-")[:MAX_NAME]
    if readable == key:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{readable or 'letter'}-{digest}"


class LetterOutbox:
    """Writes letters under ``folder`` and, with ``mailer``, emails them to the print service."""

    def __init__(self, folder: Path, mailer: PrintMailer | None = None) -> None:
        self.folder = folder
        self.mailer = mailer

    def open(self) -> None:
        """Create the folder; raises a permanent :class:`SendError` when it cannot be written."""
        try:
            prepare_folder(self.folder)
        except OSError as exc:
            raise SendError(
                f"cannot write letters to {self.folder}: {exc.strerror or exc}; check the "
                "channel's 'folder' and its permissions",
                retryable=False,
            ) from None

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()

    def existing(self, key: str) -> Path | None:
        """The letter already written for ``key``, on whatever day, if any."""
        found = sorted(self.folder.glob(f"*/{safe_name(key)}.pdf"))
        return found[0] if found else None

    def deliver(
        self,
        key: str,
        sent_on: date,
        render: Callable[[], bytes],
        recipient_lines: list[str],
    ) -> Receipt:
        """Write the letter for ``key`` unless it exists (``render`` makes its PDF), email it
        to the print service unless that was done, and return the receipt.

        Raises :class:`SendError`: retryable for a disk or mail server problem.
        """
        path = self.existing(key)
        if path is None:
            path = self.folder / sent_on.isoformat() / f"{safe_name(key)}.pdf"
            pdf = render()
            try:
                path.parent.mkdir(exist_ok=True)
                write_atomically(path, pdf, suffix=PARTIAL)
            except OSError as exc:
                raise SendError(
                    f"cannot write letter {path}: {exc.strerror or exc}; check free disk space "
                    "and permissions (it will be retried)",
                    retryable=True,
                ) from None
        relative = path.relative_to(self.folder).as_posix()
        receipt_id, detail = relative, f"written to {path}"
        if self.mailer is not None:
            message_id = self._mail_once(key, path, recipient_lines)
            receipt_id = f"{relative} {message_id}"
            detail += f"; emailed to {self.mailer.service.to} ({self.mailer.address})"
        accepted_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return Receipt(receipt_id, accepted_at, detail)

    def _mail_once(self, key: str, path: Path, recipient_lines: list[str]) -> str:
        assert self.mailer is not None
        note = path.with_name(f".{path.name}.mailed")
        if note.is_file():
            return note.read_text(encoding="utf-8").strip()
        try:
            pdf = path.read_bytes()
        except OSError as exc:
            raise SendError(
                f"cannot read letter {path} to email it: {exc.strerror or exc}; it will be retried",
                retryable=True,
            ) from None
        message_id = self.mailer.send(self.mailer.build(key, pdf, path.name, recipient_lines))
        # The letter went out; without the note a retry sends it again with the same Message-ID.
        with suppress(OSError):
            write_atomically(note, message_id.encode("utf-8"), suffix=PARTIAL)
        return message_id
