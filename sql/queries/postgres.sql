-- The Postgres stores' statements (core/jobs/postgres_store.py, core/auth/accounts.py), one
-- `-- name --` block each, read by core/jobs/queries.py. Parameters are psycopg's: `%s` in
-- order or `%(name)s`. Where a statement takes `now`, it is the caller's clock when given
-- (tests) and the database's otherwise, so every process shares one clock.
-- The trigger from 015 sets updated_at on every UPDATE.
-- Built in code, not here: the job INSERT (its columns are the NewJob fields) and the
-- transition UPDATE (its SET list is the TransitionWrite's).

-- get_job --
SELECT * FROM generation_jobs WHERE id = %s;

-- job_status --
SELECT status FROM generation_jobs WHERE id = %s;

-- list_jobs_for_user --
-- (user_id, limit, offset)
SELECT * FROM generation_jobs WHERE user_id = %s ORDER BY created_at DESC, id LIMIT %s OFFSET %s;

-- list_history --
-- (user, statuses, style, product, favorite, limit, offset): a filter left NULL does not filter
SELECT * FROM generation_jobs
WHERE user_id = %(user)s
  AND (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s::text[]))
  AND (%(style)s::text IS NULL OR style = %(style)s::text)
  AND (%(product)s::text IS NULL OR product = %(product)s::text)
  AND (%(favorite)s::boolean IS NULL OR favorite = %(favorite)s::boolean)
ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s;

-- set_favorite --
-- (on, job id): any status; the trigger from 015 only guards status changes
UPDATE generation_jobs SET favorite = %s WHERE id = %s RETURNING *;

-- delete_finished_job --
-- (job id, the finished statuses): a pending or processing job's row stays
DELETE FROM generation_jobs WHERE id = %s AND status = ANY(%s) RETURNING id;

-- queue_position --
-- the job's status and how many pending jobs are ahead of it (older, ties broken by id)
SELECT me.status,
       (SELECT count(*) FROM generation_jobs other
        WHERE other.status = 'pending' AND (other.created_at, other.id) < (me.created_at, me.id)) AS ahead
FROM generation_jobs me WHERE me.id = %s;

-- lock_user_quota --
-- (namespace, user_id): held until the transaction ends, so one user's quota checks run one at a time
SELECT pg_advisory_xact_lock(%s, hashtext(%s));

-- processing_time_ms --
-- An expression, not a statement: the SET value for processing_time_ms when a job finishes,
-- now - started_at. fail_stale_processing spells out the same.
GREATEST(0, ROUND(EXTRACT(EPOCH FROM (now() - started_at)) * 1000))::int

-- claim_stale_pending --
-- (now, age): FOR UPDATE SKIP LOCKED lets several processes claim side by side, each job once
UPDATE generation_jobs SET status = 'processing', started_at = now()
WHERE status = 'pending' AND id = (
    SELECT id FROM generation_jobs
    WHERE status = 'pending'
      AND created_at < COALESCE(%(now)s::timestamptz, now()) - make_interval(secs => %(age)s)
    ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1
)
RETURNING *;

-- fail_stale_processing --
-- (now, age, error): an upload error already recorded is the better reason, so it stays
UPDATE generation_jobs
SET status = 'failed', error = COALESCE(error, %(error)s), completed_at = now(),
    processing_time_ms = GREATEST(0, ROUND(EXTRACT(EPOCH FROM (now() - started_at)) * 1000))::int
WHERE status = 'processing' AND updated_at < COALESCE(%(now)s::timestamptz, now()) - make_interval(secs => %(age)s)
RETURNING *;

-- fail_orphaned_in_process --
-- (now, grace, timeout, me, error): in-process jobs of another process that stopped beating;
-- their generator is gone, so nothing will report
UPDATE generation_jobs j
SET status = 'failed', error = %(error)s, completed_at = now(),
    processing_time_ms = GREATEST(0, ROUND(EXTRACT(EPOCH FROM (now() - started_at)) * 1000))::int
WHERE j.status = 'processing' AND j.runner IS NOT NULL AND j.runner <> 'remote' AND j.runner <> %(me)s
  AND j.updated_at < COALESCE(%(now)s::timestamptz, now()) - make_interval(secs => %(grace)s)
  AND NOT EXISTS (SELECT 1 FROM app_processes p
                  WHERE p.runner = j.runner
                    AND p.heartbeat_at >= COALESCE(%(now)s::timestamptz, now()) - make_interval(secs => %(timeout)s))
RETURNING j.*;

-- record_runner --
-- (runner, job id)
UPDATE generation_jobs SET runner = %s WHERE id = %s AND status = 'processing';

-- record_worker_queue --
-- (gpu wait, jobs ahead, job id): news from the dispatch's answer, unless progress came first
UPDATE generation_jobs SET gpu_wait = %s, queue_ahead = %s
WHERE id = %s AND status = 'processing' AND progress_total IS NULL;

-- record_upload_failure --
-- (error, job id): the failures so far; no row unless the job is processing
UPDATE generation_jobs SET upload_failures = upload_failures + 1, error = %s
WHERE id = %s AND status = 'processing'
RETURNING upload_failures;

-- beat --
-- (runner, now)
INSERT INTO app_processes (runner, heartbeat_at) VALUES (%(runner)s, COALESCE(%(now)s::timestamptz, now()))
ON CONFLICT (runner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;

-- forget_stopped_processes --
-- (now, age): heartbeats too old to matter
DELETE FROM app_processes
WHERE heartbeat_at < COALESCE(%(now)s::timestamptz, now()) - make_interval(secs => %(age)s);

-- record_progress --
-- (step, total, job id)
UPDATE generation_jobs SET progress_step = %s, progress_total = %s
WHERE id = %s AND status = 'processing';

-- quota_usage --
-- (now, user, minute, day): the user's jobs in the last minute and day, and those in flight
SELECT COALESCE(%(now)s::timestamptz, now()) AS now,
       COUNT(*) FILTER (WHERE created_at > COALESCE(%(now)s::timestamptz, now()) - %(minute)s) AS last_minute,
       COUNT(*) AS last_day,
       MIN(created_at) FILTER (WHERE created_at > COALESCE(%(now)s::timestamptz, now()) - %(minute)s)
           AS oldest_in_minute,
       MIN(created_at) AS oldest_in_day,
       (SELECT COUNT(*) FROM generation_jobs
        WHERE user_id = %(user)s AND status IN ('pending', 'processing')) AS in_flight
FROM generation_jobs
WHERE user_id = %(user)s AND created_at > COALESCE(%(now)s::timestamptz, now()) - %(day)s;

-- record_callback_attempt --
-- (state or NULL while still owed, job id): one more delivery attempt made
UPDATE generation_jobs SET callback_attempts = callback_attempts + 1, callback_state = %s
WHERE id = %s RETURNING *;

-- abandon_callback --
-- (job id): no delivery is owed (a batch's job canceled before its caller saw it)
UPDATE generation_jobs SET callback_state = 'abandoned' WHERE id = %s AND callback_url IS NOT NULL;

-- owed_callbacks --
-- (now, age, limit): finished jobs whose callback is still owed, finished more than `age` s ago
SELECT * FROM generation_jobs
WHERE callback_url IS NOT NULL AND callback_state IS NULL
  AND status IN ('completed', 'failed', 'canceled')
  AND completed_at < COALESCE(%(now)s::timestamptz, now()) - make_interval(secs => %(age)s)
ORDER BY completed_at LIMIT %(limit)s;

-- stats_summary --
-- counts and processing-time percentiles of the jobs created since the parameter
SELECT now() AS now,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'canceled') AS canceled,
       count(*) FILTER (WHERE status IN ('pending', 'processing')) AS in_flight,
       count(*) FILTER (WHERE status = 'completed' AND processing_time_ms IS NOT NULL) AS timed,
       sum(processing_time_ms) FILTER (WHERE status = 'completed' AND processing_time_ms IS NOT NULL) AS time_sum,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY processing_time_ms)
           FILTER (WHERE status = 'completed' AND processing_time_ms IS NOT NULL) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY processing_time_ms)
           FILTER (WHERE status = 'completed' AND processing_time_ms IS NOT NULL) AS p95
FROM generation_jobs WHERE created_at >= %s;

-- stats_per_day --
SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS total,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed
FROM generation_jobs WHERE created_at >= %s GROUP BY day ORDER BY day;

-- stats_by_style --
SELECT style AS key, count(*) AS n FROM generation_jobs WHERE created_at >= %s GROUP BY style;

-- stats_by_product --
SELECT product AS key, count(*) AS n FROM generation_jobs WHERE created_at >= %s GROUP BY product;

-- stats_recent_failures --
-- (since, limit)
SELECT id::text AS id, created_at, style, product, error FROM generation_jobs
WHERE status = 'failed' AND created_at >= %s ORDER BY created_at DESC, id DESC LIMIT %s;

-- stats_gpu --
-- GPU time reported per finished status, for the jobs created since the parameter
SELECT status,
       count(gpu_seconds) AS measured,
       COALESCE(sum(gpu_seconds), 0) AS gpu_seconds,
       COALESCE(sum(cold_start_seconds), 0) AS cold_start_seconds
FROM generation_jobs
WHERE created_at >= %s AND status IN ('completed', 'failed', 'canceled')
GROUP BY status;

-- record_gpu_usage --
-- (gpu_seconds, cold_start_seconds, job id): GPU time reported for a job already finished
-- (work a cancel stopped); the first report counts, a repeated delivery changes nothing
UPDATE generation_jobs SET gpu_seconds = %s, cold_start_seconds = %s
WHERE id = %s AND gpu_seconds IS NULL;

-- add_account --
-- (name, password hash, is_admin)
INSERT INTO tenkaigen_users (name, password_hash, is_admin) VALUES (%s, %s, %s);

-- account_credentials --
SELECT password_hash, is_admin FROM tenkaigen_users WHERE name = %s;

-- count_accounts --
SELECT COUNT(*) AS n FROM tenkaigen_users;
