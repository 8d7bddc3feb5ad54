"""Service settings, read once from the environment (`PARCOURS_*`) or given to `create_app`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_VAR = ROOT / "var"


class Settings(BaseSettings):
    """Everything the service can be configured with; each field is `PARCOURS_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="PARCOURS_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR / 'parcours.db'}",
        description="SQLAlchemy URL; postgresql+psycopg://user@host:5432/db in production.",
    )
    data_dir: Path = Field(default=DEFAULT_VAR, description="Where uploaded files are kept until processed.")
    keep_upload_files_seconds: float = Field(
        default=0.0, ge=0, description="How long an uploaded file is kept once read (0: deleted as soon as read)."
    )
    pii_secret: SecretStr | None = Field(
        default=None,
        description="Secret of the digests that replace external ids holding personal data (docs/PRIVACY.md); "
        "unset: a random one kept in data_dir/pii.key.",
    )
    model: str | None = Field(default=None, description="Model name under models/ or a model directory.")
    admin_token: str | None = Field(
        default=None, description="Bearer token for /admin endpoints; admin endpoints are off when unset."
    )
    auto_migrate: bool = Field(default=True, description="Apply database migrations on start.")
    run_worker: bool = Field(default=True, description="Run the analysis and upload workers inside the service.")
    max_batch_items: int = Field(default=5000, ge=1, description="Most items in one POST /v1/feedback.")
    max_analyze_texts: int = Field(default=1000, ge=1, description="Most texts in one POST /v1/analyze.")
    max_text_chars: int = Field(default=20_000, ge=1, description="Longest feedback text accepted.")
    max_analyze_chars: int = Field(
        default=200_000, ge=1, description="Most characters, all texts together, in one POST /v1/analyze."
    )
    max_body_bytes: int = Field(
        default=5 * 1024**2, ge=1, description="Largest request body accepted, counted as it is read (not uploads)."
    )
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1, description="Largest CSV upload accepted.")
    analysis_batch_size: int = Field(default=256, ge=1, description="Texts analysed together by the worker.")
    upload_chunk_rows: int = Field(default=1000, ge=1, description="CSV rows stored per transaction.")
    lease_seconds: float = Field(
        default=120.0, gt=0, description="A claimed job not finished within this time is taken up again."
    )
    idle_poll_seconds: float = Field(default=2.0, gt=0, description="How often an idle worker looks for work.")
    workspace_ttl_seconds: float = Field(
        default=1.0, ge=0, description="How long a GET may reuse the workspace row (its data version) it read."
    )
    max_listed_errors: int = Field(default=1000, ge=0, description="Failed rows listed per upload (all counted).")
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live: memory:// (this process) or redis://host:6379 (shared).",
    )
    rate_limit_prefix: str = Field(default="parcours", description="Key prefix of this service's counters in Redis.")
    rate_limit_auth_failures: str = Field(
        default="20/minute", description="Failed authentications one client address may make before 429."
    )
    rate_limit_feedback: str = Field(default="120/minute", description="POST /v1/feedback calls per workspace.")
    rate_limit_analyze: str = Field(default="60/minute", description="POST /v1/analyze calls per workspace.")
    rate_limit_uploads: str = Field(default="20/minute", description="POST /v1/uploads calls per workspace.")
    metrics_public: bool = Field(default=False, description="Serve GET /metrics without the admin token.")
    log_format: Literal["text", "json"] = Field(default="text", description="Log lines as text or JSON objects.")

    @field_validator("rate_limit_auth_failures", "rate_limit_feedback", "rate_limit_analyze", "rate_limit_uploads")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_many(value)  # "20/minute", "5 per 10 seconds", "100/hour;10/minute": a typo fails at start
        return value
