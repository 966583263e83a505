"""A portfolio whose ladder has a phone call between two emails, for call-task tests.

Ladder (calendar days): friendly reminder by email 3 days after due, a call 7 days later,
a final reminder by email 7 days after the call. F-1 (D1, Bakker, due 1 March) gets its
reminder on 4 March and its call on 11 March.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.test_pauses_cli import Portfolio

CALL_HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;telefoon;directie;"
    "directie_telefoon;taal;factuurdatum;vervaldatum;bedrag"
)
JAN = "jan@bakker.nl"
BAKKER = f"D1;Bakker B.V.;Jan Bakker;{JAN};020 123 4567;Els Bakker;06 12345678;nl"
B1 = f"F-1;{BAKKER};01-02-2026;01-03-2026;100,00"
B2 = f"F-2;{BAKKER};01-02-2026;01-03-2026;200,00"
SMITH = "D2;Smith Ltd;Anne Smith;anne@smith.co.uk;+44 20 7946 0958;;;en"
S3 = f"F-3;{SMITH};01-02-2026;01-03-2026;900,00"
N4 = "F-4;D3;Nobel;Nina Nobel;nina@nobel.nl;;;;nl;01-02-2026;01-03-2026;50,00"
CALL_LADDER = """\
      - {name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}
      - {name: phone-call, after_previous: 7, channel: phone, template: phone-call}
      - {name: final-reminder, after_previous: 7, channel: email, template: final-reminder}
"""
CALL_SETTINGS = """\
calendar: {business_days_only: false, quiet_channels: []}
    calls:
      assign_to: sanne
      assign_by_segment: {risky: senior}
      in_post_days: 3
      retry:
        no_answer: {after_business_days: 1, max_attempts: 2}
"""


class CallPortfolio(Portfolio):
    """:class:`Portfolio` with a ``phone`` call channel (and ``extra_channels`` YAML)."""

    def __init__(
        self,
        folder: Path,
        port: int,
        rows: Sequence[str],
        *,
        ladder: str = CALL_LADDER,
        settings: str = CALL_SETTINGS,
        extra_channels: str = "",
        header: str = CALL_HEADER,
    ) -> None:
        super().__init__(folder, port, rows, header=header, settings=settings, ladder=ladder)
        text = self.config.read_text(encoding="utf-8")
        text = text.replace(
            "    steps:\n",
            f"      phone:\n        type: call\n{extra_channels}    steps:\n",
        )
        self.config.write_text(text, encoding="utf-8")

    def db(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.folder / "dunning.db") as connection:
            return connection.execute(query, args).fetchall()

    def tasks(self) -> list[dict[str, Any]]:
        """``dunning calls --upcoming --json``: every open call task."""
        return list(self.json("calls", "--upcoming"))

    def task_ids(self) -> list[int]:
        return [row[0] for row in self.db("select id from call_tasks order by id")]

    def done(self, task: int, *args: str, day: str) -> str:
        return self.ok("call", "done", str(task), *args, "--date", day)
