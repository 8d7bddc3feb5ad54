"""Benchmark a large CSV upload: peak service memory and throughput against the library's own.

    python scripts/bench_upload.py --rows 200000        # report in reports/bench_upload.json

Writes a CSV of real reviews (sampled with replacement, unique ids) to a temporary file, uploads it to a
`parcours serve` child process and polls the job until done, sampling the service's memory. The
library throughput is measured on a sample of the same rows in this process.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from scripts.bench_ingest import library_rate  # noqa: E402
from scripts.benchlib import MemoryWatch, Service, review_texts, write_report  # noqa: E402


def write_csv(path: Path, texts: list[str]) -> None:
    """Write an export with the usual columns (id, date, note, avis), semicolon-separated, UTF-8."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["id", "date", "note", "avis"])
        for i, text in enumerate(texts):
            writer.writerow([f"U{i}", f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", 1 + i % 5, text])


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--library-sample", type=int, default=3000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench_upload.json")
    args = parser.parse_args(argv)

    texts = review_texts(args.rows, seed=11)
    library = library_rate(texts[: args.library_sample])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        write_csv(path, texts)
        size_mb = path.stat().st_size / 1024**2
        with Service(args.database_url) as service:
            headers = service.workspace(f"bench-upload-{int(time.time())}")
            watch = MemoryWatch(service.pid)
            watch.start()
            started = time.perf_counter()
            with path.open("rb") as handle:
                response = service.http.post(
                    "/v1/uploads", files={"file": ("export.csv", handle, "text/csv")}, headers=headers, timeout=600
                )
            response.raise_for_status()
            upload_seconds = time.perf_counter() - started
            job_url = f"/v1/uploads/{response.json()['id']}"
            with tqdm(total=args.rows, desc="analysed", unit=" rows", file=sys.stderr) as progress:
                while True:
                    job = service.http.get(job_url, headers=headers).json()
                    progress.n = job["rows_analysed"]
                    progress.refresh()
                    if job["status"] in ("done", "failed"):
                        break
                    time.sleep(2)
            elapsed = time.perf_counter() - started
            peak_mb = watch.stop()
    report = {
        "rows": args.rows,
        "file_mb": round(size_mb, 1),
        "database": (args.database_url or "sqlite").split(":", 1)[0],
        "status": job["status"],
        "rows_stored": job["rows_stored"],
        "rows_failed": job["rows_failed"],
        "rows_analysed": job["rows_analysed"],
        "upload_request_seconds": round(upload_seconds, 1),
        "total_seconds": round(elapsed, 1),
        "api_rows_per_second": round(args.rows / elapsed, 1),
        "library_rows_per_second": round(library, 1),
        "ratio": round(args.rows / elapsed / library, 3),
        "service_peak_memory_mb": round(peak_mb, 1),
    }
    write_report(args.report, report)
    print(
        f"targets: ratio >= 0.8 ({'ok' if report['ratio'] >= 0.8 else 'BELOW'}), "
        f"peak memory < 2048 MB ({'ok' if peak_mb < 2048 else 'ABOVE'})"
    )


if __name__ == "__main__":
    main()
