-- TenkaiGen: the generation jobs table.
-- Runs on plain PostgreSQL 15 and on Supabase (paste it into the SQL editor, or run
-- `python app.py migrate`). Safe to run twice.

CREATE TABLE IF NOT EXISTS generation_jobs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             text        NOT NULL,
    prompt              text        NOT NULL CHECK (char_length(prompt) BETWEEN 1 AND 4000),
    parsed_prompt       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    style               text        NOT NULL,
    product             text        NOT NULL,
    status              text        NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'canceled')),
    width               integer     NOT NULL CHECK (width > 0),
    height              integer     NOT NULL CHECK (height > 0),
    seed                bigint,
    model               text,
    storage_key         text,
    image_url           text,
    error               text,
    processing_time_ms  integer     CHECK (processing_time_ms IS NULL OR processing_time_ms >= 0),
    progress_step       integer,
    progress_total      integer,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    completed_at        timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- nothing is completed without its object in storage
    CONSTRAINT generation_jobs_completed_has_image
        CHECK (status <> 'completed' OR (storage_key IS NOT NULL AND image_url IS NOT NULL))
);

-- a user's history, newest first
CREATE INDEX IF NOT EXISTS generation_jobs_user_created_idx
    ON generation_jobs (user_id, created_at DESC);
-- the queue and the monitoring queries
CREATE INDEX IF NOT EXISTS generation_jobs_status_created_idx
    ON generation_jobs (status, created_at);

-- The status machine, enforced by the database as well as by the app:
-- pending -> processing | canceled; processing -> completed | failed | canceled.
CREATE OR REPLACE FUNCTION generation_jobs_guard_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('processing', 'canceled')) OR
        (OLD.status = 'processing' AND NEW.status IN ('completed', 'failed', 'canceled'))
    ) THEN
        RAISE EXCEPTION 'illegal generation job transition: % -> %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS generation_jobs_guard_transition ON generation_jobs;
CREATE TRIGGER generation_jobs_guard_transition
    BEFORE UPDATE ON generation_jobs
    FOR EACH ROW EXECUTE FUNCTION generation_jobs_guard_transition();
