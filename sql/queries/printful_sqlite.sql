-- The SQLite statements of the Printful publishing store (core/publishing/sqlite_store.py),
-- one `-- name --` block each. Parameters are named (`:name`); times are epoch seconds
-- given by the caller's clock, so tests can move it.

-- enqueue_mockups --
INSERT INTO printful_mockup_tasks
    (id, job_id, user_id, store_key, product_id, variant_key, variant_ids, files, status,
     not_before, created_at, updated_at)
VALUES (:id, :job_id, :user_id, :store_key, :product_id, :variant_key, :variant_ids,
        :files, 'queued', :now, :now, :now)
RETURNING *;

-- open_mockups --
-- the job's newest request for this variant set that has not failed
SELECT * FROM printful_mockup_tasks
WHERE job_id = :job_id AND variant_key = :variant_key AND status <> 'failed'
ORDER BY created_at DESC LIMIT 1;

-- latest_mockups --
SELECT * FROM printful_mockup_tasks WHERE job_id = :job_id ORDER BY created_at DESC, id LIMIT 1;

-- ensure_rate_window --
INSERT INTO printful_rate_windows (store_key) VALUES (:store_key) ON CONFLICT DO NOTHING;

-- lock_rate_window --
-- the store runs it inside BEGIN IMMEDIATE, which holds SQLite's write lock: every process
-- decides "may I call create-task now" one at a time
SELECT locked_until FROM printful_rate_windows WHERE store_key = :store_key;

-- calls_in_window --
SELECT count(*) AS calls FROM printful_task_calls WHERE store_key = :store_key AND called_at > :since;

-- claim_queued --
UPDATE printful_mockup_tasks SET claimed_until = :until, attempts = attempts + 1, updated_at = :now
WHERE id = (
    SELECT id FROM printful_mockup_tasks
    WHERE status = 'queued' AND store_key = :store_key AND not_before <= :now
      AND (claimed_until IS NULL OR claimed_until <= :now)
    ORDER BY created_at, id LIMIT 1
)
RETURNING *;

-- record_call --
INSERT INTO printful_task_calls (store_key, called_at) VALUES (:store_key, :now);

-- forget_old_calls --
DELETE FROM printful_task_calls WHERE store_key = :store_key AND called_at <= :before;

-- record_lockout --
UPDATE printful_rate_windows SET locked_until = MAX(locked_until, :until) WHERE store_key = :store_key;

-- claim_due_poll --
UPDATE printful_mockup_tasks SET claimed_until = :until, updated_at = :now
WHERE id = (
    SELECT id FROM printful_mockup_tasks
    WHERE status = 'submitted' AND not_before <= :now AND (claimed_until IS NULL OR claimed_until <= :now)
    ORDER BY not_before, id LIMIT 1
)
RETURNING *;

-- mark_submitted --
UPDATE printful_mockup_tasks
SET status = 'submitted', submitted_at = :now, task_key = :task_key, not_before = :next, claimed_until = NULL, updated_at = :now
WHERE id = :id AND status = 'queued' RETURNING *;

-- reschedule --
-- back in line (queued after a lockout, submitted after a pending poll), free for any process
UPDATE printful_mockup_tasks SET not_before = :next, claimed_until = NULL, updated_at = :now
WHERE id = :id AND status IN ('queued', 'submitted') RETURNING *;

-- complete_mockups --
UPDATE printful_mockup_tasks
SET status = 'completed', mockups = :mockups, claimed_until = NULL, updated_at = :now
WHERE id = :id AND status = 'submitted' RETURNING *;

-- fail_mockups --
UPDATE printful_mockup_tasks SET status = 'failed', error = :error, claimed_until = NULL, updated_at = :now
WHERE id = :id AND status IN ('queued', 'submitted') RETURNING *;

-- get_product --
SELECT * FROM printful_store_products WHERE job_id = :job_id AND variant_key = :variant_key;

-- reserve_product --
-- a new reservation, or one whose claim ran out (its process died mid-call): taken over
INSERT INTO printful_store_products
    (job_id, variant_key, user_id, status, name, variant_ids, retail_price, claimed_until, created_at)
VALUES (:job_id, :variant_key, :user_id, 'publishing', :name, :variant_ids, :retail_price,
        :until, :now)
ON CONFLICT (job_id, variant_key) DO UPDATE
SET claimed_until = EXCLUDED.claimed_until, retail_price = EXCLUDED.retail_price, name = EXCLUDED.name
WHERE printful_store_products.status = 'publishing' AND printful_store_products.claimed_until <= :now
RETURNING *;

-- record_product --
UPDATE printful_store_products
SET status = 'published', sync_product_id = :sync_product_id, product_url = :product_url, claimed_until = NULL
WHERE job_id = :job_id AND variant_key = :variant_key AND status = 'publishing' RETURNING *;

-- release_product --
DELETE FROM printful_store_products
WHERE job_id = :job_id AND variant_key = :variant_key AND status = 'publishing';

-- published_products --
-- (job_ids: a JSON list) the newest published product of each of the given jobs
SELECT * FROM printful_store_products p
WHERE p.job_id IN (SELECT value FROM json_each(:job_ids)) AND p.status = 'published'
  AND p.created_at = (SELECT max(q.created_at) FROM printful_store_products q
                      WHERE q.job_id = p.job_id AND q.status = 'published');
