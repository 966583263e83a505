"""Folder delivery: each dossier becomes a folder ``<folder>/<reference>/`` the agency picks up.

A dossier folder appears complete or not at all: its files are written into a hidden temporary
folder next to it (``.<reference>.<random>.partial``), which is then renamed. A dossier folder
that already exists *is* that dossier, delivered before: it is not written again, and the
receipt is the same. Payment notices are single files in ``<folder>/updates/``, written
atomically too. Agencies should ignore names that start with a dot.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from dunning.channels.agency.bundle import Renderer
from dunning.channels.agency.files import MANIFEST, AgencyFile, safe_name
from dunning.core.errors import SendError
from dunning.core.files import prepare_folder as prepare_folder
from dunning.core.files import sync_folder, write_atomically, write_durably
from dunning.core.handoff.dossier import AgencyUpdate, Dossier
from dunning.core.models import Receipt

UPDATES = "updates"
PARTIAL = ".partial"


class FolderDelivery:
    """Writes dossiers and notices under ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path, renderer: Renderer) -> None:
        self.folder = folder
        self.renderer = renderer

    def open(self) -> None:
        """Create the folder; raises a permanent :class:`SendError` when it cannot be written."""
        try:
            prepare_folder(self.folder)
        except OSError as exc:
            raise SendError(
                f"cannot write agency dossiers to {self.folder}: {exc.strerror or exc}; check "
                "the channel's 'folder' and its permissions",
                retryable=False,
            ) from None

    def close(self) -> None:
        """Nothing to close."""

    def dossier_folder(self, reference: str) -> Path:
        return self.folder / safe_name(reference)

    def deliver_dossier(self, dossier: Dossier) -> Receipt:
        """Write the dossier's folder unless it exists; the receipt names the folder."""
        final = self.dossier_folder(dossier.reference)
        if not (final / MANIFEST).is_file():
            rendered = self.renderer.dossier(dossier)
            try:
                self._write_folder(final, rendered.files)
            except OSError as exc:
                raise SendError(
                    f"cannot write dossier {final}: {exc.strerror or exc}; check free disk "
                    "space and permissions (it will be retried)",
                    retryable=True,
                ) from None
        return self._receipt(final, final / MANIFEST)

    def deliver_update(self, update: AgencyUpdate) -> Receipt:
        """Write ``updates/<reference>.json``; sent twice, the file is left as it is."""
        file = self.renderer.update(update).file
        path = self.folder / UPDATES / file.name
        try:
            path.parent.mkdir(exist_ok=True)
            if not path.is_file() or path.read_bytes() != file.content:
                write_atomically(path, file.content, suffix=PARTIAL)
        except OSError as exc:
            raise SendError(
                f"cannot write {path}: {exc.strerror or exc}; check free disk space and "
                "permissions (it will be retried)",
                retryable=True,
            ) from None
        return self._receipt(path, path)

    def _write_folder(self, final: Path, files: tuple[AgencyFile, ...]) -> None:
        for leftover in self.folder.glob(f".{final.name}.*{PARTIAL}"):
            shutil.rmtree(leftover, ignore_errors=True)  # an earlier attempt that died
        staging = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".{final.name}.", suffix=PARTIAL))
        try:
            for file in files:
                target = staging / file.name
                target.parent.mkdir(parents=True, exist_ok=True)
                write_durably(target, file.content)
            for folder in {staging, *(p.parent for p in staging.rglob("*"))}:
                sync_folder(folder)
            try:
                staging.rename(final)
            except OSError:
                if not (final / MANIFEST).is_file():
                    raise
                # Another process delivered the same dossier meanwhile: that one stands.
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        sync_folder(self.folder)

    def _receipt(self, path: Path, written: Path) -> Receipt:
        """The same receipt for every delivery of one dossier: its path and when it was written."""
        accepted_at = datetime.fromtimestamp(written.stat().st_mtime, UTC)
        relative = path.relative_to(self.folder).as_posix()
        return Receipt(relative, accepted_at, f"delivered to {path}")
