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

HEADLINE: dict[str, tuple[str, str | None, float | tuple[float, float] | None]] = {
    # name: (path to the figure, path to its baseline, target: a minimum, or a (low, high) band, or None)
    **{
        f"{dev} {label}": (f"{dev}.{task}.f1", f"{dev}.{task}.baseline_f1", target)
        for dev in ("journey_dev", "dev2")
        for label, task, target in (
            ("stage set-F1", "stage", 0.80),
            ("touchpoint set-F1", "touchpoint", 0.80),
            ("stage+polarity set-F1", "stage+polarity", 0.72),
            ("stage+touchpoint set-F1", "stage+touchpoint", None),
            ("polarity set-F1", "polarity", 0.90),
        )
    },
    "journey_dev mentions/text ratio": ("journey_dev.mentions.count_ratio", None, (0.85, 1.15)),
    "dev2 mentions/text ratio": ("dev2.mentions.count_ratio", None, (0.85, 1.15)),
    "journey_dev mention precision": ("journey_dev.mentions.precision", None, None),
    "dev2 mention precision": ("dev2.mentions.precision", None, None),
    "journey_dev irritant/delight flips": ("journey_dev.aligned.polarity_flips", None, None),
    "dev2 irritant/delight flips": ("dev2.aligned.polarity_flips", None, None),
    "journey_dev neutral F1": ("journey_dev.neutral.f1", None, None),
    "dev2 neutral F1": ("dev2.neutral.f1", None, None),
    "SemEval16 FR sentence polarity acc": ("semeval2016.fr.accuracy", "semeval2016.fr.baseline_accuracy", None),
    "SemEval16 EN sentence polarity acc": ("semeval2016.en.accuracy", "semeval2016.en.baseline_accuracy", None),
    "SemEval16 FR mixed: both found": ("semeval2016.fr.mixed_both_found", None, 0.60),
    "SemEval16 EN mixed: both found": ("semeval2016.en.mixed_both_found", None, 0.60),
    "UMSAB val FR 3-class macro-F1": ("umsab.fr.macro_f1", "umsab.fr.baseline_macro_f1", 0.55),
    "UMSAB val EN 3-class macro-F1": ("umsab.en.macro_f1", "umsab.en.baseline_macro_f1", 0.55),
    "TweetEval val emotion macro-F1": ("tweeteval_emotion.macro_f1", "tweeteval_emotion.baseline_macro_f1", 0.60),
    "fr_insurance 1-2 stars negative": ("fr_insurance_stars.by_class.negative", None, 0.92),
    "fr_insurance 4-5 stars positive": ("fr_insurance_stars.by_class.positive", None, 0.92),
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
    print(f"{'task':40} {'score':>7} {'baseline':>9} {'target':>9}")
    for name, (figure, baseline, target) in HEADLINE.items():
        value = _get(report, figure)
        if value is None:
            continue
        base = _get(report, baseline)
        if target is None:
            flag, shown = "", ""
        elif isinstance(target, tuple):
            flag = "  ok" if target[0] <= value <= target[1] else "  OUT"
            shown = f"{target[0]:.2f}-{target[1]:.2f}"
        else:
            flag, shown = ("  ok" if value >= target else "  BELOW"), f"{target:.2f}"
        print(f"{name:40} {value:7.3f} {'' if base is None else f'{base:.3f}':>9} {shown:>9}{flag}")


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
