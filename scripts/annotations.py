"""The team's annotation work: pick real texts to annotate, check the annotated files, measure agreement.

python scripts/annotations.py sample [--out var/annotation_todo]   # deterministic, disjoint batches of real texts
python scripts/annotations.py check                                # validate data/annotated/**.jsonl, print counts
python scripts/annotations.py agreement                            # pass b against pass a on the same texts

Texts come only from the TRAIN-licensed folders of ../shared/data (Booking.com 515k CC0, CFPB public domain,
banking77 CC BY 4.0, Bitext CDLA-Sharing-1.0). The rows behind the second dev set (dev2) are taken first and
never appear in a training batch. See data/ANNOTATION.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.annotations import ANNOTATED_ROOT, AnnotatedText, read_annotations  # noqa: E402
from nlp.evaluation import mention_agreement  # noqa: E402

PLACEHOLDERS = {"no negative", "no positive", "nothing", "n a", "na", "none", "nothing really", "all good", ""}

# batch -> [(source, count, language, [(industry, register), ...] cycled over the batch)]
BATCHES: dict[str, list[tuple[str, int, str, list[tuple[str, str]]]]] = {
    # the second dev set first: other industries and registers than journey_dev (FR insurance, EN hotel reviews)
    "dev2": [
        ("cfpb", 60, "en", [("banking", "complaint")]),
        ("bitext", 45, "en", [("ecommerce", "chat")]),
        ("banking77", 45, "en", [("banking", "chat")]),
        ("cfpb", 50, "fr", [("utilities", "complaint"), ("telecom", "review"), ("banking", "survey")]),
        ("bitext", 50, "fr", [("ecommerce", "tweet"), ("travel", "app_review"), ("retail", "tweet")]),
        ("banking77", 50, "fr", [("banking", "app_review"), ("telecom", "tweet"), ("banking", "tweet")]),
    ],
    "en_booking": [("booking", 420, "en", [("hotels", "review")])],
    "en_cfpb": [("cfpb", 330, "en", [("banking", "complaint")])],
    "en_short": [("banking77", 360, "en", [("banking", "chat")]), ("bitext", 360, "en", [("ecommerce", "chat")])],
    "fr_booking": [
        ("booking", 330, "fr", [("hotels", "review"), ("travel", "review"), ("hotels", "survey"), ("travel", "tweet")])
    ],
    "fr_cfpb_a": [
        ("cfpb", 330, "fr", [("banking", "complaint"), ("insurance", "review"), ("banking", "review")]),
    ],
    "fr_cfpb_b": [
        ("cfpb", 330, "fr", [("utilities", "review"), ("telecom", "complaint"), ("insurance", "survey")]),
    ],
    "fr_short": [
        ("bitext", 170, "fr", [("ecommerce", "tweet"), ("retail", "app_review"), ("telecom", "chat")]),
        ("banking77", 160, "fr", [("banking", "tweet"), ("banking", "app_review"), ("insurance", "chat")]),
    ],
    # second round: more reviews and tweets, industries the real English sources lack (transposed French versions)
    "en_booking2": [("booking", 400, "en", [("hotels", "review")])],
    "en_cfpb_long": [("cfpb_long", 200, "en", [("banking", "complaint")])],
    "fr_transposed": [
        (
            "booking",
            330,
            "fr",
            [
                ("insurance", "review"),
                ("telecom", "review"),
                ("ecommerce", "review"),
                ("utilities", "review"),
                ("banking", "app_review"),
                ("retail", "review"),
            ],
        )
    ],
    "fr_travel": [
        ("booking", 330, "fr", [("travel", "review"), ("travel", "tweet"), ("hotels", "survey"), ("travel", "survey")])
    ],
    "fr_cfpb_long": [
        (
            "cfpb_long",
            300,
            "fr",
            [("insurance", "complaint"), ("insurance", "review"), ("telecom", "complaint"), ("utilities", "review")],
        )
    ],
    "fr_tweets": [
        (
            "bitext",
            170,
            "fr",
            [("telecom", "tweet"), ("utilities", "tweet"), ("travel", "tweet"), ("ecommerce", "tweet")],
        ),
        ("banking77", 160, "fr", [("banking", "tweet"), ("insurance", "tweet"), ("telecom", "app_review")]),
    ],
}


def _key(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()


def _booking(shared: Path) -> Iterator[dict[str, Any]]:
    path = shared / "booking_hotel_reviews_515k" / "hotel_reviews_subset.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("source") == "juliabarrufet/NLP-project":
                continue  # the one-hotel folder behind journey_dev's English texts
            parts = [
                row[c].strip()
                for c in ("Positive_Review", "Negative_Review")
                if row[c].strip().lower() not in PLACEHOLDERS
            ]
            text = ". ".join(parts)
            if not 40 <= len(text) <= 700:
                continue
            score = float(row["Reviewer_Score"]) if row["Reviewer_Score"] else None
            source_id = _key(row["Hotel_Name"] + row["Review_Date"] + text)[:12]
            yield {"source": "booking_hotel_reviews_515k", "source_id": source_id, "text": text, "rating": score}


def _cfpb(shared: Path) -> Iterator[dict[str, Any]]:
    with (shared / "cfpb_complaints" / "cfpb_narratives.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["narrative"].strip()
            if 150 <= len(text) <= 1100:
                yield {"source": "cfpb_complaints", "source_id": row["complaint_id"], "text": text, "rating": None}


def _cfpb_long(shared: Path) -> Iterator[dict[str, Any]]:
    with (shared / "cfpb_complaints" / "cfpb_narratives.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["narrative"].strip()
            if 1100 < len(text) <= 2500:
                yield {"source": "cfpb_complaints", "source_id": row["complaint_id"], "text": text, "rating": None}


def _banking77(shared: Path) -> Iterator[dict[str, Any]]:
    with (shared / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["text"].strip()
            yield {"source": "banking77", "source_id": _key(text)[:12], "text": text, "rating": None}


def _bitext(shared: Path) -> Iterator[dict[str, Any]]:
    path = shared / "bitext_customer_service" / "bitext_customer_service_8k.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row["utterance"].strip()
            yield {"source": "bitext_customer_service", "source_id": _key(text)[:12], "text": text, "rating": None}


READERS = {
    "booking": _booking,
    "cfpb": _cfpb,
    "cfpb_long": _cfpb_long,
    "banking77": _banking77,
    "bitext": _bitext,
}


def sample(shared: Path, out: Path) -> None:
    """Write one todo file per batch: disjoint rows, dev2's taken first, ordered by hash (deterministic)."""
    pools = {}
    for name, reader in READERS.items():
        rows = {r["source_id"]: r for r in reader(shared)}
        pools[name] = sorted(rows.values(), key=lambda r: _key(r["source_id"]))
    taken = Counter[str]()
    out.mkdir(parents=True, exist_ok=True)
    for batch, parts in BATCHES.items():
        items = []
        for source, count, language, styles in parts:
            rows = pools[source][taken[source] : taken[source] + count]
            taken[source] += count
            for index, row in enumerate(rows):
                industry, register = styles[index % len(styles)]
                suffix = "-fr" if language == "fr" else ""
                items.append(
                    {
                        "id": f"ann-{source}-{row['source_id']}{suffix}",
                        "source": row["source"],
                        "source_id": row["source_id"],
                        "lang": language,
                        "industry": industry,
                        "register": register,
                        "rating": row["rating"],
                        "source_text": row["text"],
                    }
                )
        path = out / f"{batch}.jsonl"
        path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
        print(f"{path}: {len(items)} texts")


def check(root: Path) -> int:
    """Validate every annotated file; print errors and counts; return the number of invalid lines."""
    failures = 0
    for kind in ("train", "dev2", "agreement"):
        records: list[AnnotatedText] = []
        for path in sorted((root / kind).glob("*.jsonl")):
            found, errors = read_annotations(path)
            records += found
            failures += len(errors)
            for error in errors:
                print(f"ERROR {kind}/{error}")
        if not records:
            continue
        languages = Counter(r.lang for r in records)
        mentions = sum(len(r.mentions) for r in records)
        print(
            f"{kind}: {len(records)} texts ({dict(languages)}), {mentions} mentions "
            f"({mentions / len(records):.2f} per text); registers {dict(Counter(r.register for r in records))}; "
            f"industries {dict(Counter(r.industry for r in records))}"
        )
    return failures


def agreement(root: Path) -> dict[str, Any]:
    """Score pass b against pass a on the texts both annotated."""
    second = {r.id: r for path in sorted((root / "agreement").glob("*.jsonl")) for r in read_annotations(path)[0]}
    first = {r.id: r for path in sorted((root / "train").glob("*.jsonl")) for r in read_annotations(path)[0]}
    first.update({r.id: r for path in sorted((root / "dev2").glob("*.jsonl")) for r in read_annotations(path)[0]})
    shared_ids = sorted(set(second) & set(first))
    report: dict[str, Any] = {"texts": len(shared_ids)}
    for language in ("all", "fr", "en"):
        ids = [i for i in shared_ids if language == "all" or first[i].lang == language]
        if ids:
            report[language] = mention_agreement(
                [first[i].as_dict()["mentions"] for i in ids], [second[i].as_dict()["mentions"] for i in ids]
            )
    return report


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run one command."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["sample", "check", "agreement"])
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "annotation_todo")
    parser.add_argument("--root", type=Path, default=ANNOTATED_ROOT)
    args = parser.parse_args(argv)
    if args.command == "sample":
        sample(args.shared_data, args.out)
    elif args.command == "check":
        sys.exit(1 if check(args.root) else 0)
    else:
        print(json.dumps(agreement(args.root), indent=2))


if __name__ == "__main__":
    main()
