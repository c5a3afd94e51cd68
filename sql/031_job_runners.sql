-- TenkaiGen: where each job runs, so recovery knows which jobs a restart has orphaned, and
-- how often a job's result could not be stored.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice.

-- 'remote' (a GPU worker reports through the webhook) or 'process:<id>' (a generator inside
-- the app process <id>); NULL for jobs dispatched before this migration.
ALTER TABLE generation_jobs ADD COLUMN IF NOT EXISTS runner text;
-- results the object store refused; a remote job is failed once the worker's retries are spent
ALTER TABLE generation_jobs ADD COLUMN IF NOT EXISTS upload_failures integer NOT NULL DEFAULT 0;

-- One row per running app process, its heartbeat written by each recovery pass. An in-process
-- job whose process stopped beating can never finish: recovery fails it instead of waiting
-- for the processing deadline.
CREATE TABLE IF NOT EXISTS app_processes (
    runner        text        PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

-- On Supabase, nobody reaches it through the Data API: row-level security on, no policy.
DO $$
BEGIN
    IF to_regnamespace('auth') IS NOT NULL THEN
        EXECUTE 'ALTER TABLE app_processes ENABLE ROW LEVEL SECURITY';
    END IF;
END
$$;
