-- The SQLite stores' statements (core/jobs/sqlite_store.py, core/auth/accounts.py), one
-- `-- name --` block each, read by core/jobs/queries.py. Parameters are `?`, in order, or
-- `:name` where a statement repeats one.
-- Times are UTC ISO-8601 text, so comparing the text compares the times.
-- Built in code, not here: the job INSERT (its columns are the NewJob fields) and the
-- transition UPDATE (its SET list is the TransitionWrite's).

-- get_job --
SELECT * FROM generation_jobs WHERE id = ?;

-- job_status --
SELECT status FROM generation_jobs WHERE id = ?;

-- list_jobs_for_user --
-- (user_id, limit, offset)
SELECT * FROM generation_jobs WHERE user_id = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?;

-- list_history --
-- (:user, :statuses as a JSON array, :style, :product, :favorite as 0 or 1, :limit, :offset);
-- a filter left NULL does not filter
SELECT * FROM generation_jobs
WHERE user_id = :user
  AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
  AND (:style IS NULL OR style = :style)
  AND (:product IS NULL OR product = :product)
  AND (:favorite IS NULL OR favorite = :favorite)
ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset;

-- set_favorite --
-- (0 or 1, now, job id): any status; the status trigger only guards status changes
UPDATE generation_jobs SET favorite = ?, updated_at = ? WHERE id = ? RETURNING *;

-- delete_finished_job --
-- (job id, the finished statuses as a JSON array): a pending or processing job's row stays
DELETE FROM generation_jobs WHERE id = ? AND status IN (SELECT value FROM json_each(?)) RETURNING id;

-- queue_position --
-- the job's status and how many pending jobs are ahead of it (older, ties broken by id)
SELECT me.status,
       (SELECT COUNT(*) FROM generation_jobs other
        WHERE other.status = 'pending'
          AND (other.created_at < me.created_at OR (other.created_at = me.created_at AND other.id < me.id))) AS ahead
FROM generation_jobs me WHERE me.id = ?;

-- processing_time_ms --
-- An expression, not a statement: the SET value for processing_time_ms when a job finishes,
-- now (the one parameter) - started_at. fail_stale_processing spells out the same.
CASE WHEN started_at IS NULL THEN NULL
     ELSE MAX(0, CAST(ROUND((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER)) END

-- claim_stale_pending --
-- (now, now, cutoff): one statement, and SQLite runs writers one at a time, so each job is claimed once
UPDATE generation_jobs SET status = 'processing', started_at = ?, updated_at = ?
WHERE status = 'pending'
  AND id = (SELECT id FROM generation_jobs WHERE status = 'pending' AND created_at < ? ORDER BY created_at LIMIT 1)
RETURNING *;

-- fail_stale_processing --
-- (error, now, now, now, cutoff): an upload error already recorded is the better reason, so it stays
UPDATE generation_jobs
SET status = 'failed', error = COALESCE(error, ?), completed_at = ?, updated_at = ?,
    processing_time_ms = CASE WHEN started_at IS NULL THEN NULL
        ELSE MAX(0, CAST(ROUND((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER)) END
WHERE status = 'processing' AND updated_at < ?
RETURNING *;

-- fail_orphaned_in_process --
-- (error, now, now, now, this process's runner, grace cutoff, heartbeat cutoff): in-process jobs
-- of another process that stopped beating; their generator is gone, so nothing will report
UPDATE generation_jobs
SET status = 'failed', error = ?, completed_at = ?, updated_at = ?,
    processing_time_ms = CASE WHEN started_at IS NULL THEN NULL
        ELSE MAX(0, CAST(ROUND((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER)) END
WHERE status = 'processing' AND runner IS NOT NULL AND runner <> 'remote' AND runner <> ?
  AND updated_at < ?
  AND NOT EXISTS (SELECT 1 FROM app_processes p
                  WHERE p.runner = generation_jobs.runner AND p.heartbeat_at >= ?)
RETURNING *;

-- record_runner --
-- (runner, now, job id)
UPDATE generation_jobs SET runner = ?, updated_at = ? WHERE id = ? AND status = 'processing';

-- record_worker_queue --
-- (gpu wait, jobs ahead, now, job id): news from the dispatch's answer, unless progress came first
UPDATE generation_jobs SET gpu_wait = ?, queue_ahead = ?, updated_at = ?
WHERE id = ? AND status = 'processing' AND progress_total IS NULL;

-- add_column_gpu_wait --
-- Postgres: 036_job_gpu_queue.sql
ALTER TABLE generation_jobs ADD COLUMN gpu_wait TEXT CHECK (gpu_wait IS NULL OR gpu_wait IN ('starting', 'queued'));

-- add_column_queue_ahead --
ALTER TABLE generation_jobs ADD COLUMN queue_ahead INTEGER CHECK (queue_ahead IS NULL OR queue_ahead >= 0);

-- record_upload_failure --
-- (error, now, job id): the failures so far; no row unless the job is processing
UPDATE generation_jobs SET upload_failures = upload_failures + 1, error = ?, updated_at = ?
WHERE id = ? AND status = 'processing'
RETURNING upload_failures;

-- beat --
-- (runner, now, now)
INSERT INTO app_processes (runner, started_at, heartbeat_at) VALUES (?, ?, ?)
ON CONFLICT (runner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;

-- forget_stopped_processes --
-- (cutoff): heartbeats too old to matter
DELETE FROM app_processes WHERE heartbeat_at < ?;

-- job_columns --
-- the jobs table's columns, so an older file gains the ones added since (add_column_* below)
SELECT name FROM pragma_table_info('generation_jobs');

-- add_column_runner --
ALTER TABLE generation_jobs ADD COLUMN runner TEXT;

-- add_column_upload_failures --
ALTER TABLE generation_jobs ADD COLUMN upload_failures INTEGER NOT NULL DEFAULT 0;

-- add_column_favorite --
-- Postgres: 033_job_favorites.sql
ALTER TABLE generation_jobs ADD COLUMN favorite INTEGER NOT NULL DEFAULT 0 CHECK (favorite IN (0, 1));

-- record_progress --
-- (step, total, now, job id)
UPDATE generation_jobs SET progress_step = ?, progress_total = ?, updated_at = ?
WHERE id = ? AND status = 'processing';

-- quota_usage --
-- (minute ago, minute ago, user, user, day ago)
SELECT COUNT(*) FILTER (WHERE created_at > ?) AS last_minute,
       COUNT(*) AS last_day,
       MIN(CASE WHEN created_at > ? THEN created_at END) AS oldest_in_minute,
       MIN(created_at) AS oldest_in_day,
       (SELECT COUNT(*) FROM generation_jobs WHERE user_id = ? AND status IN ('pending', 'processing')) AS in_flight
FROM generation_jobs WHERE user_id = ? AND created_at > ?;

-- add_column_gpu_seconds --
ALTER TABLE generation_jobs ADD COLUMN gpu_seconds REAL CHECK (gpu_seconds IS NULL OR gpu_seconds >= 0);

-- add_column_cold_start_seconds --
ALTER TABLE generation_jobs ADD COLUMN cold_start_seconds REAL CHECK (cold_start_seconds IS NULL OR cold_start_seconds >= 0);

-- add_column_callback_url --
ALTER TABLE generation_jobs ADD COLUMN callback_url TEXT CHECK (callback_url IS NULL OR length(callback_url) <= 2048);

-- add_column_callback_attempts --
ALTER TABLE generation_jobs ADD COLUMN callback_attempts INTEGER NOT NULL DEFAULT 0;

-- add_column_callback_state --
ALTER TABLE generation_jobs ADD COLUMN callback_state TEXT
    CHECK (callback_state IS NULL OR callback_state IN ('delivered', 'abandoned'));

-- record_callback_attempt --
-- (state or NULL while still owed, job id): one more delivery attempt made
UPDATE generation_jobs SET callback_attempts = callback_attempts + 1, callback_state = ?
WHERE id = ? RETURNING *;

-- abandon_callback --
-- (job id): no delivery is owed (a batch's job canceled before its caller saw it)
UPDATE generation_jobs SET callback_state = 'abandoned' WHERE id = ? AND callback_url IS NOT NULL;

-- owed_callbacks --
-- (cutoff, limit): finished jobs whose callback is still owed, finished before the cutoff
SELECT * FROM generation_jobs
WHERE callback_url IS NOT NULL AND callback_state IS NULL
  AND status IN ('completed', 'failed', 'canceled') AND completed_at < ?
ORDER BY completed_at LIMIT ?;

-- stats_counts --
-- total, completed, failed, canceled, in flight, for jobs created since the parameter
SELECT COUNT(*),
       SUM(status = 'completed'),
       SUM(status = 'failed'),
       SUM(status = 'canceled'),
       SUM(status IN ('pending', 'processing'))
FROM generation_jobs WHERE created_at >= ?;

-- stats_timed_totals --
-- count and sum of the completed jobs' processing times since the parameter
SELECT COUNT(*), COALESCE(SUM(processing_time_ms), 0) FROM generation_jobs
WHERE status = 'completed' AND processing_time_ms IS NOT NULL AND created_at >= ?;

-- stats_timed_neighbours --
-- (since, offset): the two sorted processing times a percentile lies between; SQLite has
-- no percentile_cont, so the store interpolates them exactly as Postgres does
SELECT processing_time_ms FROM generation_jobs
WHERE status = 'completed' AND processing_time_ms IS NOT NULL AND created_at >= ?
ORDER BY processing_time_ms LIMIT 2 OFFSET ?;

-- stats_per_day --
-- created_at's first ten characters are its UTC day
SELECT substr(created_at, 1, 10) AS day, COUNT(*), SUM(status = 'completed'), SUM(status = 'failed')
FROM generation_jobs WHERE created_at >= ? GROUP BY day ORDER BY day;

-- stats_by_style --
SELECT style, COUNT(*) FROM generation_jobs WHERE created_at >= ? GROUP BY style;

-- stats_by_product --
SELECT product, COUNT(*) FROM generation_jobs WHERE created_at >= ? GROUP BY product;

-- stats_recent_failures --
-- (since, limit)
SELECT id, created_at, style, product, error FROM generation_jobs
WHERE status = 'failed' AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?;

-- stats_gpu --
-- GPU time reported per finished status, for the jobs created since the parameter
SELECT status,
       count(gpu_seconds) AS measured,
       COALESCE(sum(gpu_seconds), 0) AS gpu_seconds,
       COALESCE(sum(cold_start_seconds), 0) AS cold_start_seconds
FROM generation_jobs
WHERE created_at >= ? AND status IN ('completed', 'failed', 'canceled')
GROUP BY status;

-- record_gpu_usage --
-- (gpu_seconds, cold_start_seconds, job id): GPU time reported for a job already finished
-- (work a cancel stopped); the first report counts, a repeated delivery changes nothing
UPDATE generation_jobs SET gpu_seconds = ?, cold_start_seconds = ?
WHERE id = ? AND gpu_seconds IS NULL;

-- add_account --
-- (name, password hash, is_admin as 0 or 1)
INSERT INTO tenkaigen_users (name, password_hash, is_admin) VALUES (?, ?, ?);

-- account_credentials --
SELECT password_hash, is_admin FROM tenkaigen_users WHERE name = ?;

-- count_accounts --
SELECT COUNT(*) FROM tenkaigen_users;
