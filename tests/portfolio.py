"""Test and bench data: a CSV of overdue invoices and a pipeline that emails them over SMTP."""

from __future__ import annotations

from pathlib import Path

HEADER = (
    "factuurnummer;debiteurnummer;debiteur;contactpersoon;email;factuurdatum;vervaldatum;bedrag"
)
FRIENDLY = "{name: friendly-reminder, after_due: 3, channel: email, template: friendly-reminder}"
SECOND = "{name: second-reminder, after_previous: 7, channel: email, template: second-reminder}"


def overdue_rows(count: int, prefix: str = "2026-") -> list[str]:
    """``count`` debtors with one invoice each, due 2026-03-03, every address valid."""
    return [
        f"{prefix}{n:06d};D{n:06d};Klant {n} B.V.;Anna Klant;anna{n}@example.nl;01-02-2026;"
        f"03-03-2026;{100 + n % 900},50"
        for n in range(count)
    ]


def write_smtp_project(
    folder: Path, rows: list[str], pipeline: str, port: int, steps: tuple[str, ...] = (FRIENDLY,)
) -> Path:
    """Write ``invoices.csv`` and a ``pipelines.yaml`` sending to 127.0.0.1:``port``; return it."""
    (folder / "invoices.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    step_lines = "".join(f"      - {step}\n" for step in steps)
    config = folder / "pipelines.yaml"
    config.write_text(
        f"""
pipelines:
  {pipeline}:
    creditor: {{name: Test B.V., iban: NL91ABNA0417164300}}
    source: {{type: csv, path: invoices.csv}}
    channels:
      email:
        type: email
        delivery: smtp
        from_address: debiteuren@example.nl
        smtp: {{host: 127.0.0.1, port: {port}, security: none, timeout: 10}}
    steps:
{step_lines}""",
        encoding="utf-8",
    )
    return config
