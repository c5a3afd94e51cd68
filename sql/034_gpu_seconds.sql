-- TenkaiGen: the GPU time each job used, as its worker reports it, so `python app.py stats`,
-- `costs` and the Admin tab can say what an image really costs.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice.

-- gpu_seconds: how long generation held the GPU (completed, failed, and work stopped by a cancel);
-- cold_start_seconds: the worker's start-up (container boot, model load), charged to the first
-- job it ran. NULL: not reported (the draft renderer, older workers, jobs that never ran).
ALTER TABLE generation_jobs
    ADD COLUMN IF NOT EXISTS gpu_seconds real CHECK (gpu_seconds IS NULL OR gpu_seconds >= 0),
    ADD COLUMN IF NOT EXISTS cold_start_seconds real CHECK (cold_start_seconds IS NULL OR cold_start_seconds >= 0);
