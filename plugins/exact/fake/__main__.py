"""``python -m dunning.plugins.exact.fake``: a seeded fake Exact Online for demos."""

from __future__ import annotations

import argparse
import threading
from datetime import date

from dunning.plugins.exact.fake.server import FakeExact


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Exact Online API with seed data.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766, help="0 takes a free port")
    parser.add_argument("--receivables", type=int, default=300)
    parser.add_argument("--client-id", default="demo-client")
    parser.add_argument("--client-secret", default="demo-secret")
    parser.add_argument("--redirect-uri", default="http://localhost:8400/callback")
    parser.add_argument("--division", type=int, default=123456)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--seed", type=int, default=0, help="random seed for the data")
    parser.add_argument("--minutely-limit", type=int, default=60)
    parser.add_argument("--daily-limit", type=int, default=5000)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    fake = FakeExact(
        args.client_id,
        args.client_secret,
        args.redirect_uri,
        divisions=(args.division,),
        minutely_limit=args.minutely_limit,
        daily_limit=args.daily_limit,
        time_scale=args.time_scale,
        today=args.today,
    )
    fake.seed(args.receivables, rng_seed=args.seed)
    fake.start(args.host, args.port)
    access, refresh = fake.issue_tokens()
    print(f"Exact Online fake serving at {fake.base_url}", flush=True)
    print(f"division: {fake.division}", flush=True)
    print(f"client_id: {fake.client_id}", flush=True)
    print(f"client_secret: {fake.client_secret}", flush=True)
    print(f"redirect_uri: {args.redirect_uri}", flush=True)
    print(f"access_token: {access}", flush=True)
    print(f"refresh_token: {refresh}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
