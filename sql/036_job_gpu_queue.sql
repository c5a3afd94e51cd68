-- TenkaiGen: what the GPU worker said of its queue when it took a job, so the studio can say
-- "starting a GPU" or "queued on the GPU, 3 ahead" until the job's first progress report.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice.

-- gpu_wait: 'starting' (no GPU container was up: one is starting, a cold start) or 'queued'
-- (one was up; the job waits its turn). queue_ahead: the jobs the worker will start first.
-- NULL: the worker did not say (an older worker, the in-process generators).
ALTER TABLE generation_jobs
    ADD COLUMN IF NOT EXISTS gpu_wait text CHECK (gpu_wait IS NULL OR gpu_wait IN ('starting', 'queued')),
    ADD COLUMN IF NOT EXISTS queue_ahead integer CHECK (queue_ahead IS NULL OR queue_ahead >= 0);
