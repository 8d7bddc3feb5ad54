"""Benchmark ingestion through the API against the library's own analysis throughput, on the same texts.

    python scripts/bench_ingest.py --reviews 9000        # report in reports/bench_ingest.json

In alternating rounds on the same texts: the library (`Pipeline.analyze` in batches of 256, in this
process), then the API (the texts POSTed back to back in JSON batches of 1,000 to a `parcours serve` child
process, timed from the first request to the moment nothing is left to analyse: stored, analysed,
segments and mentions written). The ratio is the library's total time over the API's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from nlp.pipeline import Pipeline, load_pipeline  # noqa: E402
from scripts.benchlib import MemoryWatch, Service, review_texts, write_report  # noqa: E402


def library_rate(texts: list[str], batch_size: int = 256) -> float:
    """Return texts per second of the bare library on `texts` (used by the upload benchmark)."""
    pipeline = load_pipeline()
    pipeline.analyze(["warm-up: livraison rapide mais SAV injoignable"])
    return len(texts) / library_seconds(pipeline, texts, batch_size)


def library_seconds(pipeline: Pipeline, texts: list[str], batch_size: int = 256) -> float:
    """Seconds the library takes to analyse `texts` in batches of `batch_size`."""
    started = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        pipeline.analyze(texts[i : i + batch_size])
    return time.perf_counter() - started


def api_seconds(service: Service, headers: dict[str, str], texts: list[str], batch: int, first_id: int) -> list[float]:
    """POST `texts` in JSON batches of `batch`, back to back, as a CX tool would; return the seconds until all
    are analysed, then each request's own seconds."""
    started = time.perf_counter()
    posts = []
    for i in range(0, len(texts), batch):
        items = [{"text": t, "external_id": f"b{first_id + i + n}"} for n, t in enumerate(texts[i : i + batch])]
        request_started = time.perf_counter()
        response = service.http.post("/v1/feedback", json={"items": items}, headers=headers)
        response.raise_for_status()
        posts.append(time.perf_counter() - request_started)
    while service.pending():
        time.sleep(0.1)
    return [time.perf_counter() - started, *posts]


def interleaved(texts: list[str], database_url: str | None, batch: int, rounds: int) -> dict[str, Any]:
    """Alternate, round by round on the same texts, the library in this process and the API of a service.

    Alternating makes both measurements see the same machine: on these shared cores the same work takes
    up to 20% longer from one minute to the next, which two separate runs would read as a difference.
    """
    pipeline = load_pipeline()
    pipeline.analyze(["warm-up: livraison rapide mais SAV injoignable"])
    size = -(-len(texts) // rounds)
    library: list[float] = []
    api: list[float] = []
    posts: list[float] = []
    with Service(database_url) as service:
        headers = service.workspace(f"bench-{int(time.time())}")
        watch = MemoryWatch(service.pid)
        watch.start()
        api_seconds(service, headers, texts[:20], batch, first_id=-100)  # warm the service's paths
        for first in range(0, len(texts), size):
            chunk = texts[first : first + size]
            library.append(library_seconds(pipeline, chunk))
            elapsed, *requests = api_seconds(service, headers, chunk, batch, first_id=first)
            api.append(elapsed)
            posts += requests
        peak_mb = watch.stop()
    return {
        "library_reviews_per_second": round(len(texts) / sum(library), 1),
        "api_reviews_per_second": round(len(texts) / sum(api), 1),
        "ratio": round(sum(library) / sum(api), 3),
        "ratio_per_round": [round(a / b, 3) for a, b in zip(library, api, strict=True)],
        "service_peak_memory_mb": round(peak_mb, 1),
        "post_mean_s": round(sum(posts) / len(posts), 3),
    }


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=9000)
    parser.add_argument("--rounds", type=int, default=3, help="library and API runs alternate this many times")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench_ingest.json")
    args = parser.parse_args(argv)

    texts = review_texts(args.reviews)
    figures = interleaved(texts, args.database_url, args.batch, args.rounds)
    report = {
        "reviews": len(texts),
        "batch": args.batch,
        "rounds": args.rounds,
        "database": (args.database_url or "sqlite").split(":", 1)[0],
        **figures,
    }
    write_report(args.report, report)
    print(f"target: ratio >= 0.8 ({'ok' if report['ratio'] >= 0.8 else 'BELOW'})")


if __name__ == "__main__":
    main()
