"""Evaluate the shipped model on the labelled sets in ../shared/data; print a table and write a JSON report.

python scripts/evaluate.py                         # all tasks, report in reports/evaluate.json
python scripts/evaluate.py --tasks journey_dev --record   # also store the figures in the manifest
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.evaluation import TASKS  # noqa: E402
from nlp.pipeline import load_pipeline  # noqa: E402
from nlp.store import resolve_model_dir  # noqa: E402

HEADLINE = {  # task -> (path to the figure, path to its baseline, target or None)
    "journey_dev stage set-F1": ("journey_dev.stage.f1", "journey_dev.stage.baseline_f1", 0.80),
    "journey_dev touchpoint set-F1": ("journey_dev.touchpoint.f1", "journey_dev.touchpoint.baseline_f1", 0.80),
    "journey_dev stage+polarity set-F1": (
        "journey_dev.stage+polarity.f1",
        "journey_dev.stage+polarity.baseline_f1",
        0.75,
    ),
    "journey_dev stage+touchpoint set-F1": (
        "journey_dev.stage+touchpoint.f1",
        "journey_dev.stage+touchpoint.baseline_f1",
        None,
    ),
    "journey_dev polarity set-F1": ("journey_dev.polarity.f1", "journey_dev.polarity.baseline_f1", 0.90),
    "SemEval16 FR sentence polarity acc": ("semeval2016.fr.accuracy", "semeval2016.fr.baseline_accuracy", 0.90),
    "SemEval16 EN sentence polarity acc": ("semeval2016.en.accuracy", "semeval2016.en.baseline_accuracy", None),
    "SemEval16 FR mixed: both found": ("semeval2016.fr.mixed_both_found", None, 0.60),
    "SemEval16 EN mixed: both found": ("semeval2016.en.mixed_both_found", None, 0.60),
    "UMSAB FR 3-class macro-F1": ("umsab.fr.macro_f1", "umsab.fr.baseline_macro_f1", None),
    "UMSAB EN 3-class macro-F1": ("umsab.en.macro_f1", "umsab.en.baseline_macro_f1", None),
    "TweetEval emotion macro-F1": ("tweeteval_emotion.macro_f1", "tweeteval_emotion.baseline_macro_f1", None),
    "fr_insurance stars agreement": ("fr_insurance_stars.agreement", "fr_insurance_stars.baseline_agreement", 0.90),
}


def _get(report: dict[str, Any], dotted: str | None) -> float | None:
    if dotted is None:
        return None
    value: Any = report
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value)


def print_table(report: dict[str, Any]) -> None:
    """Print the headline figures beside their baselines and targets."""
    print(f"{'task':40} {'score':>7} {'baseline':>9} {'target':>7}")
    for name, (figure, baseline, target) in HEADLINE.items():
        value = _get(report, figure)
        if value is None:
            continue
        base = _get(report, baseline)
        flag = "" if target is None else ("  ok" if value >= target else "  BELOW")
        print(
            f"{name:40} {value:7.3f} {'' if base is None else f'{base:.3f}':>9} "
            f"{'' if target is None else f'{target:.2f}':>7}{flag}"
        )


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, evaluate, print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--model", default=None)
    parser.add_argument("--tasks", nargs="*", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--report", type=Path, default=ROOT / "reports" / "evaluate.json")
    parser.add_argument("--record", action="store_true", help="also write the figures into the model manifest")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    pipeline = load_pipeline(args.model)
    report: dict[str, Any] = {"model": resolve_model_dir(args.model).name}
    for task in args.tasks:
        started = time.perf_counter()
        report[task] = TASKS[task](pipeline, args.shared_data)
        print(f"# {task}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(report)
    print(f"report: {args.report}")
    if args.record and pipeline.manifest is not None:
        directory = resolve_model_dir(args.model)
        pipeline.manifest.metrics = {k: v for k, v in report.items() if k != "model"}
        pipeline.manifest.write(directory)


if __name__ == "__main__":
    main()
