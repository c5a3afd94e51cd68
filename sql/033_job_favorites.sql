-- TenkaiGen: a designer's favourite designs.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice.
-- The status-machine trigger from 015 only refuses status changes, so `favorite` may be
-- set in any status (the trigger still sets updated_at, as for every UPDATE).

ALTER TABLE generation_jobs ADD COLUMN IF NOT EXISTS favorite boolean NOT NULL DEFAULT false;

-- a user's favourites, newest first (the History tab's "favourites only")
CREATE INDEX IF NOT EXISTS generation_jobs_user_favorite_idx
    ON generation_jobs (user_id, created_at DESC) WHERE favorite;
