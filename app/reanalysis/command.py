"""`parcours reanalyse --workspace ID`: queue a workspace's re-analysis and run it here, with a progress bar."""

from __future__ import annotations

import sys
import threading

import typer
from sqlalchemy.engine import Engine
from tqdm import tqdm

from app.core.config import Settings
from app.core.db import session_scope
from app.models import Reanalysis
from app.reanalysis.service import ReanalysisWorker, request_reanalysis
from app.workspaces.keys import find_workspace
from nlp.pipeline import load_pipeline


def reanalyse_workspace(ref: str, engine: Engine) -> None:
    """Queue a re-analysis of workspace `ref` (name or id) and run it in this process (a job already taken by a
    running service is followed instead); exit code 1 when the job fails. `engine`: a database with a current
    schema; an unknown workspace raises `AppError`."""
    settings = Settings()
    pipeline = load_pipeline(settings.model)
    worker = ReanalysisWorker(engine, pipeline, settings, threading.Lock())
    with session_scope(engine) as session:
        workspace = find_workspace(session=session, ref=ref)
        assert workspace.id is not None
        job = request_reanalysis(session=session, workspace_id=workspace.id, model=worker.model, author="cli")
        job_id, total = job.id, job.total
    assert job_id is not None

    def state() -> Reanalysis:
        with session_scope(engine) as session:
            found = session.get(Reanalysis, job_id)
            assert found is not None
            return found

    with tqdm(total=total, desc=f"re-analysing {workspace.name}", unit=" feedback", file=sys.stderr) as bar:

        def moved() -> None:
            bar.update(state().done - bar.n)

        if worker.claim(job_id) is not None:
            worker.run(job_id, on_batch=moved)
        else:  # a service's worker has it: follow it
            while state().status in ("queued", "running"):
                moved()
                threading.Event().wait(1.0)
        moved()
    final = state()
    typer.echo(f"Re-analysis {job_id} {final.status}: {final.done} of {final.total} feedback re-analysed.")
    if final.status != "done":
        typer.echo(f"error: {final.error}", err=True)
        raise typer.Exit(1)
