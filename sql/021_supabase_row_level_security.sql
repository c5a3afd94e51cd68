-- TenkaiGen: row-level security for Supabase's Data API (PostgREST).
-- Signed-in users may read their own generation jobs and nothing else; nobody reaches the
-- local accounts table through the Data API. The app itself connects as the tables' owner,
-- which row-level security does not restrict.
-- Applies only where Supabase's `auth` schema exists; on plain Postgres it is a no-op.
-- Safe to run twice.

DO $$
BEGIN
    IF to_regnamespace('auth') IS NULL THEN
        RAISE NOTICE 'no auth schema (not Supabase): row-level security policies skipped';
        RETURN;
    END IF;

    EXECUTE 'ALTER TABLE generation_jobs ENABLE ROW LEVEL SECURITY';
    EXECUTE 'DROP POLICY IF EXISTS generation_jobs_select_own ON generation_jobs';
    -- (select auth.uid()) is evaluated once per statement, not once per row
    EXECUTE 'CREATE POLICY generation_jobs_select_own ON generation_jobs '
            'FOR SELECT TO authenticated '
            'USING ((SELECT auth.uid())::text = user_id)';

    -- RLS on with no policy: anon and authenticated see no row of it
    EXECUTE 'ALTER TABLE tenkaigen_users ENABLE ROW LEVEL SECURITY';
END
$$;
