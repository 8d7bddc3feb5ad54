"""CSV uploads: accept the file, check it can be read, and let the upload worker store its rows."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile

from app.api.deps import SessionDep, SettingsDep, UploadDep, WorkersDep, WorkspaceDep
from app.core.db import retry_transaction
from app.core.errors import AppError
from app.crud import list_uploads, upload_public
from app.feedback.privacy import ItemMasker, masked_reason, pii_secret
from app.jobs.queue import JobKind
from app.models import Kind, Upload
from app.schemas import MAX_RATING_SCALE, Attribute, UploadPublic, UploadsPublic
from app.uploads.files import upload_folder
from app.uploads.mapping import UploadOptions, listed_columns, resolve_columns
from nlp.errors import InputError
from nlp.readers import CsvExport

router = APIRouter(prefix="/v1/uploads", tags=["uploads"])
_CHUNK = 1024 * 1024


def _mapping(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as error:
        raise AppError(422, "invalid_mapping", f"mapping is not JSON: {error.msg}", field="mapping") from error
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise AppError(
            422, "invalid_mapping", 'mapping must be a JSON object of field -> column, e.g. {"text": "Verbatim"}'
        )
    return {str(k): v for k, v in mapping.items()}


@router.post("", status_code=202, response_model=UploadPublic, summary="Upload a CSV export of feedback")
def create_upload(
    file: UploadFile,
    session: SessionDep,
    workspace: WorkspaceDep,
    settings: SettingsDep,
    workers: WorkersDep,
    mapping: Annotated[
        str | None, Form(description='JSON field -> column, e.g. {"text": "Verbatim", "created_at": "Date"}')
    ] = None,
    kind: Annotated[
        Kind | None, Form(description="What the rows are; wins over a kind column (default: the column, else review).")
    ] = None,
    source: Annotated[Attribute | None, Form(description="Where from; wins over a source/site column.")] = None,
    rating_scale: Annotated[
        float | None,
        Form(ge=1, le=MAX_RATING_SCALE, allow_inf_nan=False, description="The rating scale (1-1000), when not 5."),
    ] = None,
    dayfirst: Annotated[bool, Form(description="Read 01/02/2026 as 1 February (false: 2 January).")] = True,
) -> UploadPublic:
    """Store the file, check its header, and queue it: 202 with the job; poll GET /v1/uploads/{id}.

    Columns are mapped from common French and English export headers unless `mapping` names them.
    A file that cannot be read at all (empty, binary, no text column) is refused here with 422.
    """
    columns_mapping = _mapping(mapping)
    if file.filename is not None and (len(file.filename) > 500 or "\x00" in file.filename):
        problem = "the file name is longer than 500 characters or holds a NUL character"
        raise AppError(422, "invalid_filename", problem, errors=[{"field": "file", "message": problem}])
    folder = upload_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        while chunk := file.file.read(_CHUNK):
            size += len(chunk)
            if size > settings.max_upload_bytes:
                out.close()
                path.unlink(missing_ok=True)
                raise AppError(
                    413, "file_too_large", f"The file is over the limit of {settings.max_upload_bytes} bytes"
                )
            digest.update(chunk)
            out.write(chunk)
    try:
        with path.open("rb") as stream:
            export = CsvExport.open(stream, text_column=columns_mapping.get("text"))
            columns = resolve_columns(export.header, columns_mapping, export.text_column)
    except InputError as error:
        path.unlink(missing_ok=True)
        columns = listed_columns(error.columns) if error.columns else {}
        raise AppError(422, error.code, masked_reason(str(error)), filename=file.filename, **columns) from error
    except BaseException:  # refused (AppError) or unreadable: the file is not kept
        path.unlink(missing_ok=True)
        raise
    masker = ItemMasker(workspace.mask_pii, secret=pii_secret(settings), workspace_id=workspace.id)
    source = masker.attribute(source)
    options = UploadOptions(kind=kind, source=source, rating_scale=rating_scale, dayfirst=dayfirst)
    upload = Upload(
        workspace_id=workspace.id,
        filename=masker.text(file.filename or "upload.csv", 500),
        stored_path=str(path),
        size_bytes=size,
        sha256=digest.hexdigest(),
        kind=kind or Kind.review,
        source=source,
        mapping=columns_mapping,
        options=options.__dict__,
        encoding=export.encoding,
        delimiter=export.delimiter,
        columns=columns,
    )
    try:
        retry_transaction(session, lambda: session.add(upload), what="the upload")
    except BaseException:  # 503 database_busy: nothing stored, the file is not kept either
        path.unlink(missing_ok=True)
        raise
    if workers is not None:
        workers.wake(JobKind.uploads)
    return upload_public(session=session, upload=upload)


@router.get("", response_model=UploadsPublic, summary="List the workspace's uploads, newest first")
def read_uploads(
    session: SessionDep,
    workspace: WorkspaceDep,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Uploads per page (1-100).")] = 20,
) -> UploadsPublic:
    """Return a page of the workspace's upload jobs, each as GET /v1/uploads/{id} answers it."""
    uploads, next_cursor = list_uploads(session=session, workspace_id=workspace.id, cursor=cursor, limit=limit)
    return UploadsPublic(data=[upload_public(session=session, upload=u) for u in uploads], next_cursor=next_cursor)


@router.get("/{upload_id}", response_model=UploadPublic, summary="An upload job's status and counts")
def read_upload(upload: UploadDep, session: SessionDep) -> UploadPublic:
    """Return status, counts, progress and the first failed rows (line, column, reason)."""
    return upload_public(session=session, upload=upload)
