-- TenkaiGen: official Printful mockups through one queue shared by every app process, the
-- per-store rate window it counts in, and the store products published from jobs.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice. Times are epoch seconds
-- (the app's clock, injectable in tests), as in 030_login_throttle.sql.

-- One row per mockup request: queued -> submitted (Printful's task_key) -> completed | failed.
-- A worker claims a row by setting claimed_until (FOR UPDATE SKIP LOCKED); a claim that runs
-- out (its process died mid-call) is taken up again by any other process.
CREATE TABLE IF NOT EXISTS printful_mockup_tasks (
    id             text             PRIMARY KEY,
    job_id         uuid             NOT NULL,  -- generation_jobs.id (no foreign key: jobs are never deleted, and the jobs table stays truncatable)
    user_id        text             NOT NULL,
    store_key      text             NOT NULL,
    product_id     integer          NOT NULL,
    variant_key    text             NOT NULL,
    variant_ids    text             NOT NULL,  -- JSON list of catalog variant ids
    files          text             NOT NULL,  -- JSON: create-task's files (placement, image_url, position)
    status         text             NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'submitted', 'completed', 'failed')),
    task_key       text,
    mockups        text,                       -- JSON: [{"variant_ids", "url"}] once completed
    error          text             CHECK (error IS NULL OR length(error) <= 1000),
    attempts       integer          NOT NULL DEFAULT 0,
    not_before     double precision NOT NULL,  -- when the worker may next act on it (submit or poll)
    claimed_until  double precision,
    submitted_at   double precision,           -- the mockup deadline counts from here
    created_at     double precision NOT NULL,
    updated_at     double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS printful_mockup_tasks_due_idx ON printful_mockup_tasks (status, not_before);
CREATE INDEX IF NOT EXISTS printful_mockup_tasks_job_idx ON printful_mockup_tasks (job_id, created_at DESC);

-- Per Printful store: the create-task lockout after a 429, and the row whose lock makes every
-- process decide "may I call now" one at a time.
CREATE TABLE IF NOT EXISTS printful_rate_windows (
    store_key     text             PRIMARY KEY,
    locked_until  double precision NOT NULL DEFAULT 0
);
-- Each create-task call made, counted over the last 60 s against the store's limit.
CREATE TABLE IF NOT EXISTS printful_task_calls (
    store_key  text             NOT NULL,
    called_at  double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS printful_task_calls_idx ON printful_task_calls (store_key, called_at);

-- One store product per job and variant set: 'publishing' while the call to Printful runs
-- (a reservation, so a repeat never makes a second product), 'published' with its id after.
CREATE TABLE IF NOT EXISTS printful_store_products (
    job_id           uuid             NOT NULL,  -- generation_jobs.id
    variant_key      text             NOT NULL,
    user_id          text             NOT NULL,
    status           text             NOT NULL CHECK (status IN ('publishing', 'published')),
    sync_product_id  bigint,
    product_url      text,
    name             text             NOT NULL,
    variant_ids      text             NOT NULL,
    retail_price     text             NOT NULL,
    claimed_until    double precision,
    created_at       double precision NOT NULL,
    PRIMARY KEY (job_id, variant_key),
    CHECK (status <> 'published' OR (sync_product_id IS NOT NULL AND product_url IS NOT NULL))
);

-- On Supabase, nobody reaches them through the Data API: row-level security on, no policy.
DO $$
BEGIN
    IF to_regnamespace('auth') IS NOT NULL THEN
        EXECUTE 'ALTER TABLE printful_mockup_tasks ENABLE ROW LEVEL SECURITY';
        EXECUTE 'ALTER TABLE printful_rate_windows ENABLE ROW LEVEL SECURITY';
        EXECUTE 'ALTER TABLE printful_task_calls ENABLE ROW LEVEL SECURITY';
        EXECUTE 'ALTER TABLE printful_store_products ENABLE ROW LEVEL SECURITY';
    END IF;
END
$$;
