"""Benchmark ingestion through the API against the library's own analysis throughput, on the same texts.

    python scripts/bench_ingest.py --reviews 5000        # report in reports/bench_ingest.json

The library figure: `Pipeline.analyze` in batches of 256 in this process. The API figure: the same texts
POSTed to a `parcours serve` child process in JSON batches of 1,000, timed from the first request to
the moment nothing is left to analyse (stored, analysed, segments and mentions written).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from nlp.pipeline import load_pipeline  # noqa: E402
from scripts.benchlib import MemoryWatch, Service, review_texts  # noqa: E402


def library_rate(texts: list[str], batch_size: int = 256) -> float:
    """Return texts per second of the bare library on `texts`."""
    pipeline = load_pipeline()
    pipeline.analyze(["warm-up: livraison rapide mais SAV injoignable"])
    started = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        pipeline.analyze(texts[i : i + batch_size])
    return len(texts) / (time.perf_counter() - started)


def api_rate(texts: list[str], database_url: str | None, batch: int) -> tuple[float, float, dict[str, float]]:
    """Return texts per second through the API, the service's peak memory and request timings."""
    with Service(database_url) as service:
        headers = service.workspace(f"bench-{int(time.time())}")
        watch = MemoryWatch(service.pid)
        watch.start()
        started = time.perf_counter()
        post_seconds = []
        for i in range(0, len(texts), batch):
            items = [{"text": t, "external_id": f"b{i + n}"} for n, t in enumerate(texts[i : i + batch])]
            request_started = time.perf_counter()
            response = httpx.post(f"{service.url}/v1/feedback", json={"items": items}, headers=headers, timeout=300)
            response.raise_for_status()
            post_seconds.append(time.perf_counter() - request_started)
        while service.pending():
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        return len(texts) / elapsed, watch.stop(), {"post_mean_s": sum(post_seconds) / len(post_seconds)}


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench_ingest.json")
    args = parser.parse_args(argv)

    texts = review_texts(args.reviews)
    library = library_rate(texts)
    api, peak_mb, timings = api_rate(texts, args.database_url, args.batch)
    report = {
        "reviews": len(texts),
        "batch": args.batch,
        "database": (args.database_url or "sqlite").split(":", 1)[0],
        "library_reviews_per_second": round(library, 1),
        "api_reviews_per_second": round(api, 1),
        "ratio": round(api / library, 3),
        "service_peak_memory_mb": round(peak_mb, 1),
        **{k: round(v, 3) for k, v in timings.items()},
    }
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for key, value in report.items():
        print(f"{key:30} {value}")
    print(f"target: ratio >= 0.8 ({'ok' if report['ratio'] >= 0.8 else 'BELOW'})")


if __name__ == "__main__":
    main()
