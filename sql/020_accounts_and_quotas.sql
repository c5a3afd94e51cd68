-- TenkaiGen: local accounts and the indexes the quota and recovery queries use.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice.

-- Local accounts (TENKAIGEN_AUTH=local). Not named `users`: a Supabase project often has
-- a public.users table of its own. Passwords are scrypt hashes, never plain text.
CREATE TABLE IF NOT EXISTS tenkaigen_users (
    name           text        PRIMARY KEY CHECK (char_length(name) BETWEEN 1 AND 64),
    password_hash  text        NOT NULL,
    is_admin       boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- quota: a user's pending and processing jobs
CREATE INDEX IF NOT EXISTS generation_jobs_user_in_flight_idx
    ON generation_jobs (user_id) WHERE status IN ('pending', 'processing');
-- recovery: processing jobs with no news since updated_at
CREATE INDEX IF NOT EXISTS generation_jobs_processing_updated_idx
    ON generation_jobs (updated_at) WHERE status = 'processing';
