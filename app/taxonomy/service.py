"""A workspace's own taxonomy: the shipped one (`nlp.taxonomy.load_taxonomy`) with the workspace's edits applied
in order. Each edit is a version; ids never change (a retired or merged label keeps its id and its history).

Two views of it: `active()` (the labels a workspace sees, filters on and reads figures under) and `analysed()`
(what the model predicts: the active labels and the merged ones, whose predictions are then counted under the
label they were merged into, `aliases`).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import reader
from app.core.errors import AppError
from app.feedback.store import bump_version, rebuild_rollup
from app.models import Correction, MentionRow, SegmentRow, TaxonomyEdit, Workspace
from nlp.taxonomy import Label, Taxonomy

EDITABLE = ("stages", "touchpoints")  # polarities and emotions are the model's own
COLUMN = {"stages": "stage", "touchpoints": "touchpoint"}  # a family's column on mentions and segments
PROTECTED = {"touchpoints": {"none"}}  # what the pipeline says when no touchpoint fits: never retired or merged
RESERVED = {"stages": {"off_topic"}, "touchpoints": set()}  # ids the model uses itself
LABEL_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class LabelStatus(StrEnum):
    """Whether a label is predicted and shown (active), no longer (retired), or counted under another (merged)."""

    active = "active"
    retired = "retired"
    merged = "merged"


class EditAction(StrEnum):
    """What a taxonomy edit does."""

    add = "add"
    update = "update"
    retire = "retire"
    merge = "merge"
    split_label = "split"


@dataclass(frozen=True)
class WorkspaceLabel:
    """A label of a workspace's taxonomy with its status (`into`: the label it was merged into)."""

    label: Label
    status: LabelStatus = LabelStatus.active
    into: str | None = None
    shipped: bool = True


@dataclass(frozen=True)
class WorkspaceTaxonomy:
    """A workspace's taxonomy at one version: the shipped taxonomy `base` with editable families replaced."""

    version: int
    base: Taxonomy
    labels: dict[str, tuple[WorkspaceLabel, ...]]

    @classmethod
    def shipped(cls, base: Taxonomy) -> WorkspaceTaxonomy:
        """Version 0: the shipped taxonomy, every label active."""
        return cls(0, base, {f: tuple(WorkspaceLabel(label) for label in base.family(f)) for f in EDITABLE})

    def _with(self, statuses: Sequence[LabelStatus]) -> Taxonomy:
        families = {f: tuple(x.label for x in self.labels[f] if x.status in statuses) for f in EDITABLE}
        return dataclasses.replace(self.base, **families)

    def active(self) -> Taxonomy:
        """The labels the workspace sees and reads its figures under."""
        return self._with([LabelStatus.active])

    def analysed(self) -> Taxonomy:
        """The labels the model predicts: the active ones and the merged ones (counted under `aliases`)."""
        return self._with([LabelStatus.active, LabelStatus.merged])

    def aliases(self, family: str) -> dict[str, str]:
        """Each merged label of `family` -> the active label its mentions count under."""
        into = {x.label.id: x.into for x in self.labels[family] if x.status == LabelStatus.merged and x.into}
        resolved = {}
        for source in into:
            target = into[source]
            while target in into:  # merged into a label merged later itself
                target = into[target]
            resolved[source] = target
        return resolved

    def find(self, family: str, label_id: str) -> WorkspaceLabel:
        """The label `label_id` of `family`, or 404 listing the family's ids."""
        for entry in self.labels[family]:
            if entry.label.id == label_id:
                return entry
        ids = ", ".join(x.label.id for x in self.labels[family])
        raise AppError(404, "label_not_found", f"No {COLUMN[family]} '{label_id}' in this taxonomy. Ids: {ids}")

    def edited(self, edit: TaxonomyEdit | Any) -> WorkspaceTaxonomy:
        """This taxonomy with one more edit (checked: 404 for an unknown label, 409/422 for an impossible edit)."""
        family, change = edit.family, edit.change
        entries = list(self.labels[family])
        position = {x.label.id: i for i, x in enumerate(entries)}
        if edit.action == EditAction.add:
            if edit.label_id in position or edit.label_id in RESERVED[family]:
                raise AppError(409, "label_exists", f"{family}: the id '{edit.label_id}' is taken (ids stay stable)")
            label = Label(
                id=edit.label_id,
                names=dict(change.get("names") or {}),
                description=change["description"],
                examples=tuple(change.get("examples") or ()),
            )
            at = len(entries)
            if family == "touchpoints" and entries and entries[-1].label.id == "none":
                at -= 1  # "not identified" stays last
            entries.insert(at, WorkspaceLabel(label, shipped=False))
        elif edit.action == EditAction.update:
            entry = self._active(family, edit.label_id)
            label = entry.label
            label = dataclasses.replace(
                label,
                names={**label.names, **(change.get("names") or {})},
                description=change.get("description") or label.description,
                examples=tuple(change["examples"]) if change.get("examples") is not None else label.examples,
            )
            entries[position[edit.label_id]] = dataclasses.replace(entry, label=label)
        elif edit.action == EditAction.retire:
            entry = self._active(family, edit.label_id)
            self._removable(family, [edit.label_id])
            entries[position[edit.label_id]] = dataclasses.replace(entry, status=LabelStatus.retired)
        elif edit.action == EditAction.merge:
            sources = list(change["from"])
            self._active(family, edit.label_id)
            if edit.label_id in sources:
                raise AppError(422, "invalid_merge", f"'{edit.label_id}' cannot be merged into itself")
            for source in sources:
                self._active(family, source)
            self._removable(family, sources)
            for source in sources:
                entries[position[source]] = dataclasses.replace(
                    entries[position[source]], status=LabelStatus.merged, into=edit.label_id
                )
        elif edit.action == EditAction.split_label:
            entry = self._active(family, edit.label_id)
            self._removable(family, [edit.label_id])
            parts = [
                Label(
                    id=part["id"],
                    names=dict(part.get("names") or {}),
                    description=part["description"],
                    examples=tuple(part.get("examples") or ()),
                )
                for part in change["into"]
            ]
            ids = [part.id for part in parts]
            for part_id in ids:
                if part_id in position or part_id in RESERVED[family] or ids.count(part_id) > 1:
                    raise AppError(409, "label_exists", f"{family}: the id '{part_id}' is taken (ids stay stable)")
            at = position[edit.label_id]
            entries[at] = dataclasses.replace(entry, status=LabelStatus.retired)
            entries[at + 1 : at + 1] = [WorkspaceLabel(part, shipped=False) for part in parts]
        else:
            raise AppError(422, "invalid_edit", f"Unknown edit '{edit.action}'. Edits: {', '.join(EditAction)}")
        return WorkspaceTaxonomy(edit.version, self.base, {**self.labels, family: tuple(entries)})

    def _active(self, family: str, label_id: str) -> WorkspaceLabel:
        entry = self.find(family, label_id)
        if entry.status != LabelStatus.active:
            raise AppError(
                409, "label_not_active", f"{family}: '{label_id}' is {entry.status}; only active labels change"
            )
        return entry

    def _removable(self, family: str, ids: Sequence[str]) -> None:
        protected = sorted(set(ids) & PROTECTED.get(family, set()))
        if protected:
            raise AppError(422, "label_protected", f"{family}: '{protected[0]}' is the model's own and stays active")
        remaining = [x for x in self.labels[family] if x.status == LabelStatus.active and x.label.id not in ids]
        if not remaining:
            raise AppError(422, "last_label", f"{family}: at least one label must stay active")


def compose(base: Taxonomy, edits: Sequence[TaxonomyEdit | Any]) -> WorkspaceTaxonomy:
    """The shipped taxonomy with `edits` applied in version order."""
    taxonomy = WorkspaceTaxonomy.shipped(base)
    for edit in sorted(edits, key=lambda e: e.version):
        taxonomy = taxonomy.edited(edit)
    return taxonomy


class _Cache:
    """Composed taxonomies per (database, workspace, version, shipped taxonomy): a version never changes."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, int, str], WorkspaceTaxonomy] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int, str]) -> WorkspaceTaxonomy | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, int, int, str], value: WorkspaceTaxonomy) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_CACHE = _Cache()


def read_taxonomy(*, session: Session, workspace_id: int, version: int, base: Taxonomy) -> WorkspaceTaxonomy:
    """The workspace's taxonomy at `version` (cached: a version's edits never change)."""
    if version == 0:
        return WorkspaceTaxonomy.shipped(base)
    key = (str(session.get_bind().engine.url), workspace_id, version, base.fingerprint())
    found = _CACHE.get(key)
    if found is None:
        edits = session.scalars(
            select(TaxonomyEdit).where(TaxonomyEdit.workspace_id == workspace_id, TaxonomyEdit.version <= version)
        ).all()
        found = compose(base, edits)
        _CACHE.put(key, found)
    return found


def taxonomy_of(engine: Engine, workspace: Workspace, base: Taxonomy) -> WorkspaceTaxonomy:
    """The workspace's current taxonomy; the database is read only for a version not seen yet in this process."""
    if not workspace.taxonomy_version:
        return WorkspaceTaxonomy.shipped(base)
    assert workspace.id is not None
    with Session(reader(engine)) as session:
        return read_taxonomy(session=session, workspace_id=workspace.id, version=workspace.taxonomy_version, base=base)


def edit_taxonomy(
    *,
    session: Session,
    workspace_id: int,
    base: Taxonomy,
    family: str,
    action: EditAction,
    label_id: str,
    change: dict[str, Any],
    author: str | None,
) -> WorkspaceTaxonomy:
    """Apply one edit as the workspace's next taxonomy version, in the caller's transaction; return the new taxonomy.

    The workspace row is locked first, so concurrent edits get consecutive versions. A merge also moves the stored
    mentions, clauses and corrections of the merged labels to the target and rebuilds the workspace's rollup from
    its mentions: counts stay exact (the target counts the parts' mentions), before and after any re-analysis.
    """
    if family not in EDITABLE:
        raise AppError(404, "family_not_found", f"No editable family '{family}'. Families: {', '.join(EDITABLE)}")
    new_ids = [label_id] if action == EditAction.add else [p["id"] for p in change.get("into", [])]
    for new_id in new_ids if action in (EditAction.add, EditAction.split_label) else []:
        if not LABEL_ID.match(new_id):
            raise AppError(
                422, "invalid_label_id", f"'{new_id}': ids are 2-64 of a-z, 0-9 and _, starting with a letter"
            )
    workspace = session.execute(select(Workspace).where(Workspace.id == workspace_id).with_for_update()).scalar_one()
    current = read_taxonomy(session=session, workspace_id=workspace_id, version=workspace.taxonomy_version, base=base)
    edit = TaxonomyEdit(
        workspace_id=workspace_id,
        version=workspace.taxonomy_version + 1,
        family=family,
        action=action.value,
        label_id=label_id,
        change=change,
        author=author,
    )
    edited = current.edited(edit)
    session.add(edit)
    session.execute(update(Workspace).where(Workspace.id == workspace_id).values(taxonomy_version=edit.version))
    if action == EditAction.merge:
        _move_rows(session, workspace_id, family, list(change["from"]), label_id)
    bump_version(session=session, workspace_ids=[workspace_id])
    return edited


def _move_rows(session: Session, workspace_id: int, family: str, sources: list[str], target: str) -> None:
    column = COLUMN[family]
    for table in (MentionRow.__table__, SegmentRow.__table__):
        session.execute(
            update(table)
            .where(table.c.workspace_id == workspace_id, table.c[column].in_(sources))
            .values({column: target})
        )
    for correction in session.scalars(select(Correction).where(Correction.workspace_id == workspace_id)):
        for side in ("before", "after"):
            labels = getattr(correction, side)
            if labels and labels.get(column) in sources:
                setattr(correction, side, {**labels, column: target})
    rebuild_rollup(session=session, workspace_id=workspace_id)


def history(*, session: Session, workspace_id: int) -> list[TaxonomyEdit]:
    """Every edit of the workspace's taxonomy, oldest first."""
    return list(
        session.scalars(
            select(TaxonomyEdit).where(TaxonomyEdit.workspace_id == workspace_id).order_by(TaxonomyEdit.version)
        )
    )
