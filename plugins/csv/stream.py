"""Stream a CSV file record by record, with physical line numbers, raw text and a content hash.

Nothing here holds more than one record in memory. Structural faults of the file as a whole
(missing file, wrong encoding, broken quoting) are :class:`~dunning.core.errors.SourceError`
with a one-line message that names the file and the fix.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dunning.core.errors import SourceError


@dataclass(frozen=True, slots=True)
class Record:
    """One CSV record: its cells, the physical line it starts on (header = 1) and its raw text.

    ``raw`` is the exact text of the record including its line ending (``""`` unless asked for),
    so a writer can copy untouched records byte for byte.
    """

    line: int
    cells: list[str]
    raw: str = ""

    @property
    def is_blank(self) -> bool:
        return not any(cell.strip() for cell in self.cells)


class HashingReader(io.RawIOBase):
    """A raw binary stream that feeds every byte it reads into a SHA-256."""

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.digest.update(data)
        return size

    def hexdigest_to_end(self) -> str:
        """The hash of the whole file: reads whatever the caller has not read yet."""
        while chunk := self._inner.read(1 << 16):
            self.digest.update(chunk)
        return self.digest.hexdigest()


def open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading, or raise a :class:`SourceError` that says what to do."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise SourceError(
            f"CSV file {str(path)!r} does not exist; check 'path:' under the source in "
            "pipelines.yaml (a relative path is relative to the folder of pipelines.yaml)"
        ) from None
    except IsADirectoryError:
        raise SourceError(
            f"CSV path {str(path)!r} is a folder; point 'path:' at the .csv file itself"
        ) from None
    except OSError as exc:
        raise SourceError(
            f"CSV file {str(path)!r} cannot be opened ({exc.strerror or exc}); "
            "check its permissions and that no other program has it locked"
        ) from None


def text_stream(binary: IO[bytes], encoding: str) -> io.TextIOWrapper:
    """Decode ``binary`` as the csv module wants it: line endings untranslated."""
    return io.TextIOWrapper(binary, encoding=encoding, newline="")


def iter_records(
    text: Iterable[str],
    *,
    file_name: str,
    delimiter: str,
    encoding: str,
    keep_raw: bool = False,
) -> Iterator[Record]:
    """Yield every record of ``text`` (header included) with its starting physical line.

    A quoted cell may span lines; ``Record.line`` is the first of them. Raises
    :class:`SourceError` on broken quoting or on bytes that ``encoding`` cannot decode.
    """
    pending: list[str] = []

    def lines() -> Iterator[str]:
        for line in text:
            if keep_raw:
                pending.append(line)
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(
                f"{file_name}:{reader.line_num}: the CSV structure is broken ({exc}); "
                'check the quotes (") on that line, then run again'
            ) from None
        except UnicodeDecodeError:
            raise SourceError(
                f"{file_name}: near line {reader.line_num + 1} the file is not valid "
                f"{encoding}; set 'encoding:' under the source in pipelines.yaml to the "
                "file's encoding (older Excel exports are often cp1252)"
            ) from None
        raw = "".join(pending)
        pending.clear()
        yield Record(line=last_line + 1, cells=cells, raw=raw)
        last_line = reader.line_num
