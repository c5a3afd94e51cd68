import pytest

from core.jobs.queries import load_queries, parse_queries


def test_named_blocks_become_statements_without_their_description_lines():
    text = "-- header of the file\n\n-- get_job --\n-- (job id)\nSELECT * FROM t\nWHERE id = ?;\n\n-- count_jobs --\nSELECT 1;\n"
    assert parse_queries(text) == {"get_job": "SELECT * FROM t\nWHERE id = ?;", "count_jobs": "SELECT 1;"}


def test_a_name_defined_twice_is_refused():
    with pytest.raises(ValueError, match="'get_job' is defined twice"):
        parse_queries("-- get_job --\nSELECT 1;\n-- get_job --\nSELECT 2;\n")


def test_both_dialects_name_the_same_shared_statements():
    shared = {"get_job", "job_status", "list_jobs_for_user", "queue_position", "processing_time_ms",
              "claim_stale_pending", "fail_stale_processing", "record_progress", "quota_usage",
              "stats_by_style", "stats_by_product", "stats_per_day", "stats_recent_failures",
              "add_account", "account_credentials", "count_accounts"}
    assert shared <= load_queries("sqlite").keys()
    assert shared <= load_queries("postgres").keys()
