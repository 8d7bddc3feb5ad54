"""The journey taxonomy, loaded from data (`data/taxonomy.yaml`), never hard-coded."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from nlp.errors import TaxonomyError

FAMILIES = ("stages", "touchpoints", "polarities", "emotions")
DEFAULT_TAXONOMY = Path(__file__).resolve().parent.parent / "data" / "taxonomy.yaml"


@dataclass(frozen=True)
class Label:
    """One label of a family: a stable id, display names, a description and a few examples."""

    id: str
    names: dict[str, str]
    description: str
    examples: tuple[str, ...]
    prior: float | None = None

    def name(self, language: str = "en") -> str:
        """Return the display name in `language`, falling back to English then the id."""
        return self.names.get(language) or self.names.get("en") or self.id

    def prototype_texts(self) -> list[str]:
        """Return the texts whose embeddings define this label's prototype."""
        return [self.description, *self.examples]


@dataclass(frozen=True)
class Taxonomy:
    """Ordered label families. Stage order is the emotion curve's x-axis."""

    stages: tuple[Label, ...]
    touchpoints: tuple[Label, ...]
    polarities: tuple[Label, ...]
    emotions: tuple[Label, ...]

    def family(self, name: str) -> tuple[Label, ...]:
        """Return the labels of family `name`."""
        if name not in FAMILIES:
            raise TaxonomyError(f"No label family '{name}'. Available families: {', '.join(FAMILIES)}")
        labels: tuple[Label, ...] = getattr(self, name)
        return labels

    def ids(self, family: str) -> list[str]:
        """Return the label ids of `family`, in taxonomy order."""
        return [label.id for label in self.family(family)]

    def label(self, family: str, label_id: str) -> Label:
        """Return one label, or raise an error listing the valid ids."""
        for label in self.family(family):
            if label.id == label_id:
                return label
        raise TaxonomyError(f"No {family[:-1]} '{label_id}'. Available ids: {', '.join(self.ids(family))}")

    def priors(self, family: str) -> dict[str, float]:
        """Return the labels' expected shares in real feedback (labels without one are left out)."""
        return {label.id: label.prior for label in self.family(family) if label.prior is not None}

    def fingerprint(self) -> str:
        """Return a short hash of the whole taxonomy, for manifests."""
        payload = json.dumps(
            {f: [(x.id, x.description, list(x.examples)) for x in self.family(f)] for f in FAMILIES},
            ensure_ascii=False,
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _parse_label(raw: object, family: str, position: int) -> Label:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise TaxonomyError(f"{family}[{position}]: each label needs a string 'id'")
    names = raw.get("name") or {}
    if not isinstance(names, dict):
        raise TaxonomyError(f"{family}[{position}] '{raw['id']}': 'name' must map languages to names")
    examples = raw.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise TaxonomyError(f"{family}[{position}] '{raw['id']}': 'examples' must be a list of strings")
    return Label(
        id=raw["id"],
        names={str(k): str(v) for k, v in names.items()},
        description=str(raw.get("description") or raw["id"].replace("_", " ")),
        examples=tuple(examples),
        prior=float(raw["prior"]) if raw.get("prior") is not None else None,
    )


def parse_taxonomy(document: dict[str, object]) -> Taxonomy:
    """Build a Taxonomy from its parsed YAML/JSON document."""
    families: dict[str, tuple[Label, ...]] = {}
    for family in FAMILIES:
        raw_labels = document.get(family)
        if not isinstance(raw_labels, list) or not raw_labels:
            raise TaxonomyError(f"The taxonomy needs a non-empty list '{family}'")
        labels = tuple(_parse_label(raw, family, i) for i, raw in enumerate(raw_labels))
        ids = [label.id for label in labels]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise TaxonomyError(f"{family}: duplicate ids {', '.join(duplicates)}")
        families[family] = labels
    return Taxonomy(**families)


def load_taxonomy(path: str | Path = DEFAULT_TAXONOMY) -> Taxonomy:
    """Load a taxonomy YAML file (the default ships in `data/taxonomy.yaml`)."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TaxonomyError(f"{path}: expected a mapping with {', '.join(FAMILIES)}")
    return parse_taxonomy(document)
