"""Every setting TenkaiGen reads, in one place.

The environment variable names are those earlier TenkaiGen deployments already use (B2_S3_*,
MODAL_GENERATE_ENDPOINT, GEMINI_API_KEY, TENKAIGEN_WEBHOOK_URL), so an existing env file keeps working. Unset backends
fall back to embedded ones: SQLite, a local folder, the local parser and the draft renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.jobs.limits import DEFAULT_MAX_PROMPT_CHARS, MAX_STEPS, MIN_STEPS
from core.ops.costs import GPU_USD_PER_HOUR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- the app itself -----------------------------------------------------------------
    data_dir: Path = Field(Path("data"), alias="TENKAIGEN_DATA_DIR")
    local_user: str = Field("local", alias="TENKAIGEN_LOCAL_USER")
    public_url: str = Field("http://127.0.0.1:7860", alias="TENKAIGEN_PUBLIC_URL")
    max_prompt_chars: int = Field(DEFAULT_MAX_PROMPT_CHARS, alias="TENKAIGEN_MAX_PROMPT_CHARS", ge=1)
    http_timeout_s: float = Field(15.0, alias="TENKAIGEN_HTTP_TIMEOUT_S", gt=0)
    gradio_share: bool = Field(False, alias="TENKAIGEN_SHARE")
    policy_file: Path | None = Field(None, alias="TENKAIGEN_POLICY_FILE")

    # --- operations: metrics and logs ------------------------------------------------------
    # GET /metrics: auto = bearer token when TENKAIGEN_METRICS_TOKEN is set, else loopback
    # clients only (no proxy in between); token = the token always; public = anyone; off = 404
    metrics: Literal["auto", "off", "public", "token"] = Field("auto", alias="TENKAIGEN_METRICS")
    metrics_token: SecretStr | None = Field(None, alias="TENKAIGEN_METRICS_TOKEN")
    # text: human-readable lines; json: one JSON object per line (job_id, user_id as fields)
    log_format: Literal["text", "json"] = Field("text", alias="TENKAIGEN_LOG_FORMAT")

    # --- jobs database --------------------------------------------------------------------
    database_url: str | None = Field(None, alias="DATABASE_URL")
    database_pool_size: int = Field(10, alias="TENKAIGEN_DB_POOL_SIZE", ge=1)

    # --- object storage (Backblaze B2 by default, any S3) ----------------------------------
    b2_s3_endpoint: str | None = Field(None, alias="B2_S3_ENDPOINT")
    b2_s3_region: str | None = Field(None, alias="B2_S3_REGION")
    b2_s3_bucket: str | None = Field(None, alias="B2_S3_BUCKET")
    b2_s3_access_key_id: str | None = Field(None, alias="B2_S3_ACCESS_KEY_ID")
    b2_s3_secret_access_key: SecretStr | None = Field(None, alias="B2_S3_SECRET_ACCESS_KEY")
    b2_s3_prefix: str = Field("ai-generated/", alias="B2_S3_PREFIX")
    storage_public_base_url: str | None = Field(None, alias="STORAGE_PUBLIC_BASE_URL")

    # --- GPU worker ----------------------------------------------------------------------
    modal_generate_endpoint: str | None = Field(None, alias="MODAL_GENERATE_ENDPOINT")
    webhook_url: str | None = Field(None, alias="TENKAIGEN_WEBHOOK_URL")
    webhook_secret: SecretStr | None = Field(None, alias="TENKAIGEN_WEBHOOK_SECRET")
    generation_steps: int = Field(50, alias="TENKAIGEN_GENERATION_STEPS", ge=MIN_STEPS, le=MAX_STEPS)
    # auto: with a bucket, the worker PUTs each PNG to a presigned URL and its webhook stays
    # small; off: the PNG travels base64 in the webhook (a worker that cannot reach the bucket)
    direct_upload: Literal["auto", "off"] = Field("auto", alias="TENKAIGEN_DIRECT_UPLOAD")
    # how long a presigned upload URL is valid: a cold start, the queue and the job (max 7 days, SigV4's limit)
    upload_url_expires_s: int = Field(3600, alias="TENKAIGEN_UPLOAD_URL_EXPIRES_S", ge=60, le=7 * 24 * 3600)
    # full: the uploaded object's size, type, SHA-256 and every pixel, in one GET of the whole
    # image; header: its size, type and PNG header, in one ranged GET (core/jobs/results.py)
    upload_check: Literal["full", "header"] = Field("full", alias="TENKAIGEN_UPLOAD_CHECK")
    # auto: with a worker, print files are cut out (BiRefNet) and upscaled (Real-ESRGAN) there,
    # locally when it cannot; off: always locally (flood fill, Lanczos)
    gpu_print: Literal["auto", "off"] = Field("auto", alias="TENKAIGEN_GPU_PRINT")
    # what a GPU-hour costs, for stats/costs/Admin: Modal's H100 price (core/ops/costs.py says where from)
    gpu_usd_per_hour: float = Field(GPU_USD_PER_HOUR, alias="TENKAIGEN_GPU_USD_PER_HOUR", ge=0)
    # the final prompt, negative prompt, seed, steps, model and revision in the PNGs' text chunks
    # (print files, drafts); off for designers who do not want their prompts in the files
    png_metadata: bool = Field(True, alias="TENKAIGEN_PNG_METADATA")

    # --- accounts -------------------------------------------------------------------------
    # auto: supabase when SUPABASE_JWT_SECRET or SUPABASE_URL is set, else local when an
    # account exists, else none (every request is TENKAIGEN_LOCAL_USER, no login)
    auth_mode: Literal["auto", "none", "local", "supabase"] = Field("auto", alias="TENKAIGEN_AUTH")
    supabase_url: str | None = Field(None, alias="SUPABASE_URL")
    supabase_jwt_secret: SecretStr | None = Field(None, alias="SUPABASE_JWT_SECRET")
    supabase_anon_key: SecretStr | None = Field(None, alias="SUPABASE_ANON_KEY")
    admin_users: str = Field("", alias="TENKAIGEN_ADMIN_USERS")
    # sign-in throttling: free failures, then waits of 1 s, 2 s, 4 s ... up to the cap
    login_free_failures: int = Field(5, alias="TENKAIGEN_LOGIN_FREE_FAILURES", ge=0)
    login_free_failures_per_address: int = Field(20, alias="TENKAIGEN_LOGIN_FREE_FAILURES_PER_ADDRESS", ge=0)
    login_max_delay_s: float = Field(900.0, alias="TENKAIGEN_LOGIN_MAX_DELAY_S", gt=0)
    login_forget_after_s: float = Field(3600.0, alias="TENKAIGEN_LOGIN_FORGET_AFTER_S", gt=0)

    # --- what one request may carry (refused with 413 before it is read) ---------------------
    # every JSON route fits in 1 MiB; the worker's webhook has its own limit (api/deps.py)
    max_request_bytes: int = Field(1024 * 1024, alias="TENKAIGEN_MAX_REQUEST_BYTES", ge=1024)
    # one file uploaded to the studio (Gradio's max_file_size)
    max_upload_bytes: int = Field(10 * 1000 * 1000, alias="TENKAIGEN_MAX_UPLOAD_BYTES", ge=1024)
    max_json_depth: int = Field(32, alias="TENKAIGEN_MAX_JSON_DEPTH", ge=2, le=500)

    # --- quotas per user (0 = unlimited) ---------------------------------------------------
    quota_per_minute: int = Field(10, alias="TENKAIGEN_QUOTA_PER_MINUTE", ge=0)
    quota_per_day: int = Field(200, alias="TENKAIGEN_QUOTA_PER_DAY", ge=0)
    quota_in_flight: int = Field(4, alias="TENKAIGEN_QUOTA_IN_FLIGHT", ge=0)

    # --- result callbacks (POST /api/generate's callback_url) --------------------------------
    # loopback and private addresses are refused unless this is set (tests, a private network)
    callback_allow_private: bool = Field(False, alias="TENKAIGEN_CALLBACK_ALLOW_PRIVATE")

    # --- fault tolerance -----------------------------------------------------------------
    dispatch_attempts: int = Field(4, alias="TENKAIGEN_DISPATCH_ATTEMPTS", ge=1, le=10)
    dispatch_backoff_s: float = Field(0.5, alias="TENKAIGEN_DISPATCH_BACKOFF_S", ge=0)
    job_deadline_s: float = Field(600.0, alias="TENKAIGEN_JOB_DEADLINE_S", gt=0)
    pending_grace_s: float = Field(10.0, alias="TENKAIGEN_PENDING_GRACE_S", ge=0)
    recovery_interval_s: float = Field(30.0, alias="TENKAIGEN_RECOVERY_INTERVAL_S", ge=0)
    # --- in-process generation (a GPU on the designer's desk) ------------------------------
    model_path: str | None = Field(None, alias="TENKAIGEN_MODEL_PATH")
    model_revision: str | None = Field(None, alias="TENKAIGEN_MODEL_REVISION")
    hf_cache_dir: Path | None = Field(None, alias="TENKAIGEN_HF_CACHE")
    allow_model_download: bool = Field(False, alias="TENKAIGEN_ALLOW_DOWNLOAD")
    lightning_steps: Literal[4, 8] | None = Field(None, alias="TENKAIGEN_LIGHTNING")
    use_nunchaku: bool = Field(False, alias="TENKAIGEN_NUNCHAKU")

    # --- prompt parsing ------------------------------------------------------------------
    gemini_api_key: SecretStr | None = Field(None, alias="GEMINI_API_KEY")
    gemini_base_url: str | None = Field(None, alias="GEMINI_BASE_URL")
    gemini_model: str = Field("gemini-2.5-flash", alias="GEMINI_MODEL")
    gemini_timeout_s: float = Field(8.0, alias="GEMINI_TIMEOUT_S", gt=0)
    gemini_cache_ttl_s: float = Field(600.0, alias="GEMINI_CACHE_TTL_S", ge=0)
    # 0 turns thinking off (fast, cheap; right for a short brief); -1 lets the model decide
    gemini_thinking_budget: int = Field(0, alias="GEMINI_THINKING_BUDGET", ge=-1)

    # --- Printful (print file sizes, mockup generator) ------------------------------------
    printful_api_token: SecretStr | None = Field(None, alias="PRINTFUL_API_TOKEN")
    printful_base_url: str = Field("https://api.printful.com", alias="PRINTFUL_BASE_URL")
    printful_store_id: str | None = Field(None, alias="PRINTFUL_STORE_ID")
    # Printful allows 10 mockup tasks a minute for established stores, 2 for new ones
    printful_mockup_tasks_per_minute: int = Field(10, alias="PRINTFUL_MOCKUP_TASKS_PER_MINUTE", ge=1, le=120)
    printful_mockup_first_check_s: float = Field(10.0, alias="PRINTFUL_MOCKUP_FIRST_CHECK_S", ge=0)
    printful_mockup_deadline_s: float = Field(300.0, alias="PRINTFUL_MOCKUP_DEADLINE_S", gt=0)
    printful_variants_ttl_s: float = Field(3600.0, alias="PRINTFUL_VARIANTS_TTL_S", ge=0)

    @model_validator(mode="after")
    def _metrics_token_when_required(self) -> Settings:
        if self.metrics == "token" and not (self.metrics_token and self.metrics_token.get_secret_value().strip()):
            raise ValueError("TENKAIGEN_METRICS=token needs TENKAIGEN_METRICS_TOKEN (a long random string)")
        return self

    @property
    def uses_s3(self) -> bool:
        return bool(self.b2_s3_bucket)

    @property
    def effective_webhook_url(self) -> str:
        """Where workers post results: the explicit setting, else this app's own route."""
        if self.webhook_url:
            return self.webhook_url
        return self.public_url.rstrip("/") + "/api/generate/webhook"

    @property
    def admin_user_ids(self) -> frozenset[str]:
        return frozenset(u.strip() for u in self.admin_users.split(",") if u.strip())

    @property
    def supabase_configured(self) -> bool:
        return bool(self.supabase_jwt_secret or self.supabase_url)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "tenkaigen.sqlite3"
