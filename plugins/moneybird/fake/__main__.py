"""``python -m dunning.plugins.moneybird.fake``: a seeded fake Moneybird for demos."""

from __future__ import annotations

import argparse
import threading
from datetime import date

from dunning.plugins.moneybird.fake.server import FakeMoneybird


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Moneybird API v2 with seed data.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 takes a free port")
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--token", default="demo-token")
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=0, help="random seed for the data")
    parser.add_argument("--limit", type=int, default=150, help="requests per window")
    parser.add_argument("--window-seconds", type=float, default=300.0)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--retry-after", choices=["epoch", "delta"], default="epoch")
    args = parser.parse_args(argv)
    fake = FakeMoneybird(
        args.token,
        today=args.today,
        limit=args.limit,
        window_seconds=args.window_seconds,
        time_scale=args.time_scale,
        retry_after=args.retry_after,
    )
    fake.seed(args.invoices, rng_seed=args.seed)
    fake.start(args.host, args.port)
    print(f"Moneybird fake serving at {fake.base_url}", flush=True)
    print(f"administration_id: {fake.administration_id}", flush=True)
    print(f"token: {fake.token}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
