"""Benchmark: render and send N reminders over one SMTP connection to a real local server.

The server (aiosmtpd, spooling every message to a temporary folder) runs in its own process, so
on a 2-core machine the client and the server do not share one interpreter. The script checks
that the server received exactly N messages with N distinct keys, then prints:

- render only: messages per second for rendering subject, text and HTML (Jinja2 + Babel);
- render + MIME: the same plus building and serialising the MIME message (no network);
- render + send: messages per second through ``EmailChannel.connect()`` (render, MIME, SMTP).

Usage: ``.venv/bin/python bench/dispatch_email.py [--count N]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests/smtp_server.py

from dunning.channels.email import EmailChannel, EmailConfig  # noqa: E402
from dunning.channels.email.render import BUILTIN_TEMPLATES  # noqa: E402
from dunning.core.channel import ChannelContext, OutgoingMessage, PreviousContact  # noqa: E402
from dunning.core.models import Creditor, Debtor, DebtorKind, Invoice  # noqa: E402
from tests.smtp_server import SpoolServerProcess  # noqa: E402

TODAY = date(2026, 3, 17)
CREDITOR = Creditor(
    name="Bench B.V.",
    email="debiteuren@bench.example.com",
    phone="020 123 4567",
    iban="NL91ABNA0417164300",
    website="https://bench.example.com",
)


def messages(count: int) -> list[OutgoingMessage]:
    """``count`` varied messages: both languages, all four steps, one to three invoices."""
    built = []
    for n in range(count):
        debtor = Debtor(
            debtor_id=f"D{n:05d}",
            name=f"Klant {n} B.V.",
            email=f"anna{n}@klant{n % 97}.example.com",
            contact_name=f"Anna Klant{n}",
            first_name="Anna",
            language="nl" if n % 3 else "en",
            kind=DebtorKind.CONSUMER if n % 5 == 0 else DebtorKind.BUSINESS,
        )
        invoices = tuple(
            Invoice(
                number=f"2026-{n:05d}-{i}",
                debtor_id=debtor.debtor_id,
                issue_date=TODAY - timedelta(days=60 + i),
                due_date=TODAY - timedelta(days=30 + i),
                amount_total=Decimal(100 + n % 900) + Decimal("0.50"),
                amount_open=Decimal(100 + n % 900) + Decimal("0.50"),
                payment_link=f"https://pay.example.com/{n}/{i}" if n % 2 else None,
            )
            for i in range(1 + n % 3)
        )
        template = BUILTIN_TEMPLATES[n % len(BUILTIN_TEMPLATES)]
        built.append(
            OutgoingMessage(
                idempotency_key=f"bench:{debtor.debtor_id}:{template}:{TODAY}",
                pipeline="bench",
                debtor=debtor,
                recipient=debtor.email or "",
                step=template,
                template=template,
                invoices=invoices,
                today=TODAY,
                creditor=CREDITOR,
                previous_contacts=(PreviousContact("friendly-reminder", date(2026, 3, 3), "mail"),),
            )
        )
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render and send N reminders over SMTP.")
    parser.add_argument("--count", type=int, default=10_000, help="messages (default 10000)")
    count = parser.parse_args(argv).count
    batch = messages(count)

    with tempfile.TemporaryDirectory(prefix="dunning-bench-") as folder:
        spool = Path(folder) / "spool"
        spool.mkdir()
        with SpoolServerProcess(spool) as server:
            config = EmailConfig(
                from_address="debiteuren@bench.example.com",
                smtp={"host": server.host, "port": server.port, "security": "none"},
            )
            context = ChannelContext(
                pipeline="bench", name="email", config_dir=Path(folder), creditor=CREDITOR
            )
            channel = EmailChannel(config, context)

            started = time.perf_counter()
            for message in batch:
                channel.renderer.render(message)
            render_seconds = time.perf_counter() - started

            started = time.perf_counter()
            for message in batch:
                channel.build(message).as_bytes()
            build_seconds = time.perf_counter() - started

            started = time.perf_counter()
            with channel.connect() as connection:
                for message in batch:
                    connection.send(message)
            send_seconds = time.perf_counter() - started

            received = server.received()
    keys = {message.key for message in received}
    if len(received) != count or len(keys) != count:
        print(f"FAIL: sent {count}, server received {len(received)} ({len(keys)} distinct keys)")
        return 1
    print(f"messages:        {count} (server received {len(received)}, all distinct)")
    print(f"render only:     {count / render_seconds:8.0f} messages/s  ({render_seconds:.2f} s)")
    print(f"render + MIME:   {count / build_seconds:8.0f} messages/s  ({build_seconds:.2f} s)")
    print(f"render + send:   {count / send_seconds:8.0f} messages/s  ({send_seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
