"""`python app.py lifecycle`: expire generated images after N days, keeping the bucket's other rules."""

from __future__ import annotations

import boto3
import pytest

from core.ops.lifecycle import RULE_ID, expiry_rule, is_b2_endpoint, set_expiry
from tests.conftest import S3_TEST_KEY
from tests.ops.conftest import use_s3

OTHER_RULE = {"ID": "keep-logs-a-week", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 7}}


@pytest.fixture
def s3_client(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                        aws_access_key_id=S3_TEST_KEY, aws_secret_access_key=S3_TEST_KEY)


@pytest.fixture
def bucket(run_app, monkeypatch, s3_endpoint, s3_bucket) -> str:
    use_s3(monkeypatch, s3_endpoint, s3_bucket)
    return s3_bucket


def rules(client, bucket: str) -> dict[str, dict]:
    return {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}


@pytest.mark.slow
def test_days_sets_an_expiry_rule_on_the_prefix(run_app, bucket, s3_client):
    result = run_app("lifecycle", "--days", "90")
    assert result.code == 0, result.err
    assert f"added rule {RULE_ID}" in result.out and "expire after 90 days" in result.out
    ours = rules(s3_client, bucket)[RULE_ID]
    assert ours["Filter"] == {"Prefix": "ai-generated/"}
    assert ours["Expiration"] == {"Days": 90} and ours["Status"] == "Enabled"
    assert "NoncurrentVersionExpiration" not in ours  # only B2 needs hidden versions deleted


@pytest.mark.slow
def test_other_rules_are_kept_and_ours_is_replaced_by_id(run_app, bucket, s3_client):
    s3_client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [OTHER_RULE]})
    run_app("lifecycle", "--days", "90")
    result = run_app("lifecycle", "--days", "30")
    assert f"replaced rule {RULE_ID}; 1 other rule(s) kept" in result.out
    current = rules(s3_client, bucket)
    assert set(current) == {RULE_ID, "keep-logs-a-week"}
    assert current[RULE_ID]["Expiration"] == {"Days": 30}
    assert current["keep-logs-a-week"]["Expiration"] == {"Days": 7}


@pytest.mark.slow
def test_show_prints_every_rule_and_marks_ours(run_app, bucket, s3_client):
    assert "has no lifecycle rules" in run_app("lifecycle", "--show").out
    s3_client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [OTHER_RULE]})
    run_app("lifecycle", "--days", "14")
    result = run_app("lifecycle", "--show")
    assert result.code == 0
    lines = result.out.splitlines()
    assert any("keep-logs-a-week" in ln and "prefix logs/" in ln and "expire after 7 days" in ln for ln in lines)
    assert any(RULE_ID in ln and "expire after 14 days" in ln and "TenkaiGen's rule" in ln for ln in lines)


@pytest.mark.slow
def test_an_empty_prefix_is_refused_rather_than_expiring_the_whole_bucket(run_app, bucket, monkeypatch, s3_client):
    monkeypatch.setenv("B2_S3_PREFIX", "")
    result = run_app("lifecycle", "--days", "30")
    assert result.code == 1 and "B2_S3_PREFIX is empty" in result.err


@pytest.mark.slow
def test_b2_rules_also_delete_hidden_versions(s3_client, s3_bucket):
    # On B2 an S3 Expiration only hides a file; NoncurrentVersionExpiration deletes it.
    assert is_b2_endpoint("https://s3.us-east-005.backblazeb2.com")
    assert not is_b2_endpoint("https://acct.r2.cloudflarestorage.com") and not is_b2_endpoint(None)
    set_expiry(s3_client, s3_bucket, "ai-generated/", 90, delete_hidden_versions=True)
    ours = rules(s3_client, s3_bucket)[RULE_ID]
    assert ours["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}


def test_lifecycle_on_local_storage_explains_it_is_s3_only(run_app):
    result = run_app("lifecycle", "--days", "30")
    assert result.code == 1
    assert "lifecycle rules are a bucket setting" in result.err and "B2_S3_BUCKET" in result.err


def test_days_must_be_positive(run_app):
    with pytest.raises(SystemExit) as exit_info:
        run_app("lifecycle", "--days", "0")
    assert exit_info.value.code == 2
    with pytest.raises(ValueError):
        expiry_rule("ai-generated/", 0, delete_hidden_versions=False)
