-- The Postgres statements of the Printful publishing store (core/publishing/postgres_store.py),
-- one `-- name --` block each. Parameters are named (`%(name)s`); times are epoch seconds
-- given by the caller's clock, so tests can move it.

-- enqueue_mockups --
INSERT INTO printful_mockup_tasks
    (id, job_id, user_id, store_key, product_id, variant_key, variant_ids, files, status,
     not_before, created_at, updated_at)
VALUES (%(id)s, %(job_id)s, %(user_id)s, %(store_key)s, %(product_id)s, %(variant_key)s, %(variant_ids)s,
        %(files)s, 'queued', %(now)s, %(now)s, %(now)s)
RETURNING *;

-- open_mockups --
-- the job's newest request for this variant set that has not failed
SELECT * FROM printful_mockup_tasks
WHERE job_id = %(job_id)s AND variant_key = %(variant_key)s AND status <> 'failed'
ORDER BY created_at DESC LIMIT 1;

-- latest_mockups --
SELECT * FROM printful_mockup_tasks WHERE job_id = %(job_id)s ORDER BY created_at DESC, id LIMIT 1;

-- ensure_rate_window --
INSERT INTO printful_rate_windows (store_key) VALUES (%(store_key)s) ON CONFLICT DO NOTHING;

-- lock_rate_window --
-- held until the transaction ends: every process decides "may I call create-task now" for a store one at a time
SELECT locked_until FROM printful_rate_windows WHERE store_key = %(store_key)s FOR UPDATE;

-- calls_in_window --
SELECT count(*) AS calls FROM printful_task_calls WHERE store_key = %(store_key)s AND called_at > %(since)s;

-- claim_queued --
UPDATE printful_mockup_tasks SET claimed_until = %(until)s, attempts = attempts + 1, updated_at = %(now)s
WHERE id = (
    SELECT id FROM printful_mockup_tasks
    WHERE status = 'queued' AND store_key = %(store_key)s AND not_before <= %(now)s
      AND (claimed_until IS NULL OR claimed_until <= %(now)s)
    ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1
)
RETURNING *;

-- record_call --
INSERT INTO printful_task_calls (store_key, called_at) VALUES (%(store_key)s, %(now)s);

-- forget_old_calls --
DELETE FROM printful_task_calls WHERE store_key = %(store_key)s AND called_at <= %(before)s;

-- record_lockout --
UPDATE printful_rate_windows SET locked_until = GREATEST(locked_until, %(until)s) WHERE store_key = %(store_key)s;

-- claim_due_poll --
UPDATE printful_mockup_tasks SET claimed_until = %(until)s, updated_at = %(now)s
WHERE id = (
    SELECT id FROM printful_mockup_tasks
    WHERE status = 'submitted' AND not_before <= %(now)s AND (claimed_until IS NULL OR claimed_until <= %(now)s)
    ORDER BY not_before, id FOR UPDATE SKIP LOCKED LIMIT 1
)
RETURNING *;

-- mark_submitted --
UPDATE printful_mockup_tasks
SET status = 'submitted', submitted_at = %(now)s, task_key = %(task_key)s, not_before = %(next)s, claimed_until = NULL, updated_at = %(now)s
WHERE id = %(id)s AND status = 'queued' RETURNING *;

-- reschedule --
-- back in line (queued after a lockout, submitted after a pending poll), free for any process
UPDATE printful_mockup_tasks SET not_before = %(next)s, claimed_until = NULL, updated_at = %(now)s
WHERE id = %(id)s AND status IN ('queued', 'submitted') RETURNING *;

-- complete_mockups --
UPDATE printful_mockup_tasks
SET status = 'completed', mockups = %(mockups)s, claimed_until = NULL, updated_at = %(now)s
WHERE id = %(id)s AND status = 'submitted' RETURNING *;

-- fail_mockups --
UPDATE printful_mockup_tasks SET status = 'failed', error = %(error)s, claimed_until = NULL, updated_at = %(now)s
WHERE id = %(id)s AND status IN ('queued', 'submitted') RETURNING *;

-- get_product --
SELECT * FROM printful_store_products WHERE job_id = %(job_id)s AND variant_key = %(variant_key)s;

-- reserve_product --
-- a new reservation, or one whose claim ran out (its process died mid-call): taken over
INSERT INTO printful_store_products
    (job_id, variant_key, user_id, status, name, variant_ids, retail_price, claimed_until, created_at)
VALUES (%(job_id)s, %(variant_key)s, %(user_id)s, 'publishing', %(name)s, %(variant_ids)s, %(retail_price)s,
        %(until)s, %(now)s)
ON CONFLICT (job_id, variant_key) DO UPDATE
SET claimed_until = EXCLUDED.claimed_until, retail_price = EXCLUDED.retail_price, name = EXCLUDED.name
WHERE printful_store_products.status = 'publishing' AND printful_store_products.claimed_until <= %(now)s
RETURNING *;

-- record_product --
UPDATE printful_store_products
SET status = 'published', sync_product_id = %(sync_product_id)s, product_url = %(product_url)s, claimed_until = NULL
WHERE job_id = %(job_id)s AND variant_key = %(variant_key)s AND status = 'publishing' RETURNING *;

-- release_product --
DELETE FROM printful_store_products
WHERE job_id = %(job_id)s AND variant_key = %(variant_key)s AND status = 'publishing';

-- published_products --
-- the newest published product of each of the given jobs
SELECT DISTINCT ON (job_id) * FROM printful_store_products
WHERE job_id = ANY(%(job_ids)s::uuid[]) AND status = 'published'
ORDER BY job_id, created_at DESC;
