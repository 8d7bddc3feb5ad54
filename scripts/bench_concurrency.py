"""Concurrent ingest against a `parcours serve` on PostgreSQL: clients posting overlapping batches at once.

    python scripts/bench_concurrency.py --seconds 60      # report in reports/bench_concurrency.json

Each of `--clients` threads posts, back to back for `--seconds`, batches of `--batch` items drawn from one shared
pool of external ids, each batch in its own order (the traffic that deadlocked before ingest inserted in key
order), plus one id of its own per batch. Reported: requests, answers by status (2xx, 5xx), feedback stored
twice (should be 0), rows against what the answers said was stored, and request latency (p50, p95, max).
The service runs on a fresh PostgreSQL database (PARCOURS_TEST_POSTGRES names the server) unless
`--database-url` names one; rate limits are lifted so that every request reaches the ingest route.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.benchlib import Service, write_report  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("PARCOURS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """Create an empty database on the PostgreSQL server; yield its SQLAlchemy URL; drop it afterwards."""
    name = f"parcours_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def client_loop(
    *, url: str, headers: dict[str, str], client: int, pool: list[str], batch: int, until: float, log: list[Any]
) -> None:
    """Post overlapping batches until `until`; append (status, seconds, stored, duplicates) per request."""
    rng = random.Random(client)
    with httpx.Client(base_url=url, timeout=120) as http:
        sent = 0
        while time.monotonic() < until:
            ids = rng.sample(pool, batch - 1) + [f"own-{client}-{sent}"]
            rng.shuffle(ids)
            items = [{"external_id": i, "text": f"Commande {i} : livraison en retard, SAV aimable"} for i in ids]
            started = time.perf_counter()
            try:
                response = http.post("/v1/feedback", json={"items": items}, headers=headers)
            except httpx.HTTPError:
                log.append((0, time.perf_counter() - started, 0, 0))
                continue
            seconds = time.perf_counter() - started
            body = response.json() if response.status_code == 202 else {}
            log.append((response.status_code, seconds, body.get("stored", 0), body.get("duplicates", 0)))
            sent += 1


def stored_rows(database_url: str) -> tuple[int, int]:
    """Return the feedback rows and how many of them repeat an external id already stored in their workspace."""
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        rows, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT (workspace_id, external_id)) FROM feedback"
        ).fetchone() or (0, 0)
    return int(rows), int(rows) - int(distinct)


def run(*, database_url: str, clients: int, seconds: float, batch: int, pool_size: int) -> dict[str, Any]:
    """Start the service, race the clients, and return the figures."""
    with Service(database_url, rate_limit_feedback="1000000/minute") as service:
        headers = service.workspace(f"bench-{uuid.uuid4().hex[:6]}")
        pool = [f"order-{n:05d}" for n in range(pool_size)]
        log: list[Any] = []
        until = time.monotonic() + seconds
        threads = [
            threading.Thread(
                target=client_loop,
                kwargs={
                    "url": service.url,
                    "headers": headers,
                    "client": n,
                    "pool": pool,
                    "batch": batch,
                    "until": until,
                    "log": log,
                },
            )  # fmt: skip
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        with tqdm(total=round(seconds), desc=f"{clients} clients", unit="s") as progress:
            while any(t.is_alive() for t in threads):
                time.sleep(1)
                progress.update(1 if progress.n < progress.total else 0)
        for thread in threads:
            thread.join()
        rows, duplicates = stored_rows(database_url)
    statuses = Counter(status for status, *_ in log)
    latencies = sorted(seconds for _, seconds, *_ in log)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "database": "postgresql",
        "clients": clients,
        "seconds": seconds,
        "batch_items": batch,
        "shared_ids": pool_size,
        "requests": len(log),
        "answers_2xx": sum(n for s, n in statuses.items() if 200 <= s < 300),
        "answers_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "answers_by_status": {str(s): n for s, n in sorted(statuses.items())},
        "feedback_rows": rows,
        "stored_per_answers": sum(stored for _, _, stored, _ in log),
        "duplicates_stored": duplicates,
        "items_reported_duplicate": sum(d for *_, d in log),
        "latency_p50_ms": round(quantiles[49] * 1000, 1),
        "latency_p95_ms": round(quantiles[94] * 1000, 1),
        "latency_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=50, help="items per request (one of them the client's own)")
    parser.add_argument("--pool", type=int, default=200, help="external ids shared by all clients")
    parser.add_argument("--database-url", help="an existing PostgreSQL database (default: a fresh one)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench_concurrency.json")
    args = parser.parse_args()
    options = {"clients": args.clients, "seconds": args.seconds, "batch": args.batch, "pool_size": args.pool}
    if args.database_url:
        report = run(database_url=args.database_url, **options)
    else:
        with fresh_postgres() as url:
            report = run(database_url=url, **options)
    write_report(args.out, report)


if __name__ == "__main__":
    main()
