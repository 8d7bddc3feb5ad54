"""Train the journey heads from data/ (+ TRAIN-licensed sets in ../shared/data) into models/<name>-<version>/.

python scripts/train.py                       # writes models/journey-v1
python scripts/train.py --output /tmp/m --shared-data ../shared/data
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlp.embed import make_embedder  # noqa: E402
from nlp.store import MODELS_ROOT  # noqa: E402
from nlp.taxonomy import DEFAULT_TAXONOMY, load_taxonomy  # noqa: E402
from nlp.training import TrainingConfig, build_training_set, train  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and train."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=MODELS_ROOT / "journey-v1")
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--taxonomy", type=Path, default=DEFAULT_TAXONOMY)
    parser.add_argument("--embedder", default="use-multilingual-v3")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a TrainingConfig field (repeatable)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    taxonomy = load_taxonomy(args.taxonomy)
    overrides = dict(item.split("=", 1) for item in args.set)
    defaults = TrainingConfig()
    config = dataclasses.replace(
        defaults, **{key: type(getattr(defaults, key))(value) for key, value in overrides.items()}
    )
    examples = build_training_set(taxonomy, args.shared_data, config)
    logging.info("training on %d examples", len(examples))
    manifest = train(taxonomy, make_embedder(args.embedder), examples, config, args.output)
    logging.info("wrote %s (training data sha256 %s)", args.output, manifest.training_data_sha256[:12])


if __name__ == "__main__":
    main()
