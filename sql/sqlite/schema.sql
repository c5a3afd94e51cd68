-- TenkaiGen's SQLite database: the embedded twin of the Postgres migrations beside it
-- (015, 031, 032, 033, 034 and 036 for the jobs table, 020 for the local accounts, 035 for Printful). Every store opening the file
-- runs it, so each statement is safe to run again; columns added since a file was created are
-- added by the store (`add_column_*` in queries/sqlite.sql).
-- Timestamps are UTC ISO-8601 text; parsed_prompt is JSON text.
CREATE TABLE IF NOT EXISTS generation_jobs (
    id                  TEXT PRIMARY KEY,
    user_id             TEXT    NOT NULL,
    prompt              TEXT    NOT NULL CHECK (length(prompt) BETWEEN 1 AND 4000),
    parsed_prompt       TEXT    NOT NULL DEFAULT '{}',
    style               TEXT    NOT NULL,
    product             TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'canceled')),
    width               INTEGER NOT NULL CHECK (width > 0),
    height              INTEGER NOT NULL CHECK (height > 0),
    seed                INTEGER,
    model               TEXT,
    storage_key         TEXT,
    image_url           TEXT,
    error               TEXT,
    processing_time_ms  INTEGER CHECK (processing_time_ms IS NULL OR processing_time_ms >= 0),
    progress_step       INTEGER,
    progress_total      INTEGER,
    gpu_seconds         REAL    CHECK (gpu_seconds IS NULL OR gpu_seconds >= 0),
    cold_start_seconds  REAL    CHECK (cold_start_seconds IS NULL OR cold_start_seconds >= 0),
    favorite            INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1)),
    created_at          TEXT    NOT NULL,
    started_at          TEXT,
    completed_at        TEXT,
    updated_at          TEXT    NOT NULL,
    runner              TEXT,
    upload_failures     INTEGER NOT NULL DEFAULT 0,
    -- result callbacks (032_job_callbacks.sql); older files get these columns from the store
    callback_url        TEXT    CHECK (callback_url IS NULL OR length(callback_url) <= 2048),
    callback_attempts   INTEGER NOT NULL DEFAULT 0,
    callback_state      TEXT    CHECK (callback_state IS NULL OR callback_state IN ('delivered', 'abandoned')),
    -- what the GPU worker said of its queue (036_job_gpu_queue.sql)
    gpu_wait            TEXT    CHECK (gpu_wait IS NULL OR gpu_wait IN ('starting', 'queued')),
    queue_ahead         INTEGER CHECK (queue_ahead IS NULL OR queue_ahead >= 0),
    CHECK (status <> 'completed' OR (storage_key IS NOT NULL AND image_url IS NOT NULL))
);

CREATE INDEX IF NOT EXISTS generation_jobs_user_created_idx ON generation_jobs (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS generation_jobs_status_created_idx ON generation_jobs (status, created_at);

-- The status machine, enforced by the database as well as by the app (core/jobs/status.py;
-- tests/jobs/test_status_machine.py checks the two agree):
-- pending -> processing | canceled; processing -> completed | failed | canceled.
CREATE TRIGGER IF NOT EXISTS generation_jobs_guard_transition
BEFORE UPDATE OF status ON generation_jobs
FOR EACH ROW WHEN NEW.status IS NOT OLD.status AND NOT (
    (OLD.status = 'pending' AND NEW.status IN ('processing', 'canceled')) OR
    (OLD.status = 'processing' AND NEW.status IN ('completed', 'failed', 'canceled'))
)
BEGIN
    SELECT RAISE(ABORT, 'illegal generation job transition');
END;

-- Local accounts (TENKAIGEN_AUTH=local); see 020_accounts_and_quotas.sql.
CREATE TABLE IF NOT EXISTS tenkaigen_users (
    name           TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'))
);

-- The twin of sql/030_login_throttle.sql: failed sign-ins per account (hashed name) and per
-- client address, so every process throttles password guessing the same. Times are epoch seconds.
CREATE TABLE IF NOT EXISTS login_failures (
    key              TEXT PRIMARY KEY,
    failures         INTEGER NOT NULL CHECK (failures >= 0),
    locked_until     REAL    NOT NULL DEFAULT 0,
    last_failure_at  REAL    NOT NULL
);

-- Running app processes and their heartbeats; see 031_job_runners.sql.
CREATE TABLE IF NOT EXISTS app_processes (
    runner        TEXT PRIMARY KEY,
    started_at    TEXT NOT NULL,
    heartbeat_at  TEXT NOT NULL
);

-- Printful: the shared mockup queue, its per-store rate window and the published store
-- products; see 035_printful_publishing.sql. Times are epoch seconds; lists are JSON text.
CREATE TABLE IF NOT EXISTS printful_mockup_tasks (
    id             TEXT    PRIMARY KEY,
    job_id         TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    store_key      TEXT    NOT NULL,
    product_id     INTEGER NOT NULL,
    variant_key    TEXT    NOT NULL,
    variant_ids    TEXT    NOT NULL,
    files          TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'submitted', 'completed', 'failed')),
    task_key       TEXT,
    mockups        TEXT,
    error          TEXT    CHECK (error IS NULL OR length(error) <= 1000),
    attempts       INTEGER NOT NULL DEFAULT 0,
    not_before     REAL    NOT NULL,
    claimed_until  REAL,
    submitted_at   REAL,
    created_at     REAL    NOT NULL,
    updated_at     REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS printful_mockup_tasks_due_idx ON printful_mockup_tasks (status, not_before);
CREATE INDEX IF NOT EXISTS printful_mockup_tasks_job_idx ON printful_mockup_tasks (job_id, created_at DESC);

CREATE TABLE IF NOT EXISTS printful_rate_windows (
    store_key     TEXT PRIMARY KEY,
    locked_until  REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS printful_task_calls (
    store_key  TEXT NOT NULL,
    called_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS printful_task_calls_idx ON printful_task_calls (store_key, called_at);

CREATE TABLE IF NOT EXISTS printful_store_products (
    job_id           TEXT    NOT NULL,
    variant_key      TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('publishing', 'published')),
    sync_product_id  INTEGER,
    product_url      TEXT,
    name             TEXT    NOT NULL,
    variant_ids      TEXT    NOT NULL,
    retail_price     TEXT    NOT NULL,
    claimed_until    REAL,
    created_at       REAL    NOT NULL,
    PRIMARY KEY (job_id, variant_key),
    CHECK (status <> 'published' OR (sync_product_id IS NOT NULL AND product_url IS NOT NULL))
);
