"""The demo workspace: `data/demo/reviews.csv` stored and analysed before the service starts."""

from __future__ import annotations

import threading

from app.core.config import ROOT, Settings
from app.core.db import make_engine, session_scope, upgrade
from app.crud import create_api_key, create_workspace, get_workspace_by_name
from app.feedback.privacy import pii_secret
from app.feedback.store import store_feedback
from app.jobs.workers import AnalysisWorker
from app.schemas import FeedbackCreate
from app.uploads.mapping import UploadOptions, resolve_columns, row_to_item
from nlp.pipeline import Pipeline, load_pipeline
from nlp.readers import CsvExport, FeedbackRow

DEMO_CSV = ROOT / "data" / "demo" / "reviews.csv"
DEMO_WORKSPACE = "demo"


def load_demo(settings: Settings, pipeline: Pipeline | None = None) -> tuple[Pipeline, str]:
    """Create the demo workspace if needed, store and analyse the demo reviews; return the pipeline and a new key."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        workspace = get_workspace_by_name(session=session, name=DEMO_WORKSPACE)
        if workspace is None:
            workspace, key = create_workspace(session=session, name=DEMO_WORKSPACE)
        else:
            key = create_api_key(session=session, workspace=workspace, name="demo")
    with DEMO_CSV.open("rb") as stream:
        export = CsvExport.open(stream)
        columns = resolve_columns(export.header, {}, export.text_column)
        items = [row_to_item(r, columns, UploadOptions()) for r in export.rows() if isinstance(r, FeedbackRow)]
    with session_scope(engine) as session:
        valid = [i for i in items if isinstance(i, FeedbackCreate)]
        store_feedback(session=session, workspace=workspace, items=valid, id_secret=pii_secret(settings))
    pipeline = pipeline or load_pipeline(settings.model)
    worker = AnalysisWorker(engine, pipeline, settings, threading.Lock())
    while worker.run_once():
        pass
    engine.dispose()
    return pipeline, key
