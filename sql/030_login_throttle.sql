-- TenkaiGen: failed sign-ins, so every app process throttles password guessing the same.
-- Runs on plain PostgreSQL 15 and on Supabase. Safe to run twice.

-- One row per account (a hash of its name) or client address: how many sign-ins failed in
-- a row, and no sign-in is checked before locked_until. Times are epoch seconds.
CREATE TABLE IF NOT EXISTS login_failures (
    key              text             PRIMARY KEY,
    failures         integer          NOT NULL CHECK (failures >= 0),
    locked_until     double precision NOT NULL DEFAULT 0,
    last_failure_at  double precision NOT NULL
);

-- On Supabase, nobody reaches it through the Data API: row-level security on, no policy
-- (the app connects as the table's owner, which row-level security does not restrict).
DO $$
BEGIN
    IF to_regnamespace('auth') IS NOT NULL THEN
        EXECUTE 'ALTER TABLE login_failures ENABLE ROW LEVEL SECURITY';
    END IF;
END
$$;
