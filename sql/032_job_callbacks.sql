-- TenkaiGen: per-job result callbacks (POST /api/generate's callback_url).
-- callback_url: where the job's terminal status is POSTed, signed the Standard Webhooks way.
-- callback_attempts: delivery attempts made so far; callback_state: NULL while a delivery is
-- owed, 'delivered' once the receiver answered 2xx, 'abandoned' after the last attempt or a
-- final refusal. The recovery pass redelivers terminal jobs whose callback is still owed.
-- Safe to run twice.
ALTER TABLE generation_jobs ADD COLUMN IF NOT EXISTS callback_url text
    CHECK (callback_url IS NULL OR length(callback_url) <= 2048);
ALTER TABLE generation_jobs ADD COLUMN IF NOT EXISTS callback_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE generation_jobs ADD COLUMN IF NOT EXISTS callback_state text
    CHECK (callback_state IS NULL OR callback_state IN ('delivered', 'abandoned'));

CREATE INDEX IF NOT EXISTS generation_jobs_callbacks_owed_idx ON generation_jobs (completed_at)
    WHERE callback_url IS NOT NULL AND callback_state IS NULL;
