"""`python app.py lifecycle`: a bucket rule that expires generated images after N days.

An optional bucket rule that keeps storage bounded, set through the S3 API that B2, R2 and S3
all accept (`PutBucketLifecycleConfiguration` with a prefix `Filter` and `Expiration.Days`).
A put replaces the bucket's whole configuration, so the current rules are read first and
kept; only TenkaiGen's own rule (by `RULE_ID`) is replaced.

On B2 an S3 `Expiration` only *hides* a file (hidden versions are still stored and billed),
so for B2 endpoints the rule also carries `NoncurrentVersionExpiration` after one day, which
B2 maps to deleting the hidden version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

RULE_ID = "tenkaigen-expire-generated"
B2_HIDDEN_VERSION_DAYS = 1


@dataclass(frozen=True)
class RuleSummary:
    """One lifecycle rule as an operator reads it."""

    rule_id: str
    prefix: str
    enabled: bool
    actions: tuple[str, ...]  # "expire after 90 days", "delete hidden/old versions after 1 day", ...
    ours: bool


@dataclass(frozen=True)
class LifecycleChange:
    rule: RuleSummary
    replaced: bool  # our rule existed before (and was replaced)
    kept: int  # other rules left as they were


def is_b2_endpoint(endpoint: str | None) -> bool:
    host = urlsplit(endpoint or "").hostname or ""
    return host == "backblazeb2.com" or host.endswith(".backblazeb2.com")


def current_rules(client: Any, bucket: str) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules as boto3 returns them; [] when it has none."""
    try:
        return list(client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", []))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
            return []
        raise


def expiry_rule(prefix: str, days: int, delete_hidden_versions: bool) -> dict[str, Any]:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if not prefix:
        raise ValueError("B2_S3_PREFIX is empty: the rule would expire every object in the bucket")
    rule: dict[str, Any] = {
        "ID": RULE_ID,
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Expiration": {"Days": days},
    }
    if delete_hidden_versions:
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": B2_HIDDEN_VERSION_DAYS}
    return rule


def set_expiry(client: Any, bucket: str, prefix: str, days: int, *, delete_hidden_versions: bool) -> LifecycleChange:
    """Expire objects under `prefix` after `days` days: add or replace our rule, keep the others."""
    ours = expiry_rule(prefix, days, delete_hidden_versions)
    existing = current_rules(client, bucket)
    others = [rule for rule in existing if rule.get("ID") != RULE_ID]
    client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [*others, ours]})
    return LifecycleChange(rule=summarize(ours), replaced=len(others) < len(existing), kept=len(others))


def summarize(rule: dict[str, Any]) -> RuleSummary:
    return RuleSummary(
        rule_id=str(rule.get("ID", "")),
        prefix=_prefix_of(rule),
        enabled=rule.get("Status") == "Enabled",
        actions=tuple(_actions_of(rule)),
        ours=rule.get("ID") == RULE_ID,
    )


def _prefix_of(rule: dict[str, Any]) -> str:
    rule_filter = rule.get("Filter") or {}
    if "Prefix" in rule_filter:
        return str(rule_filter["Prefix"])
    if "And" in rule_filter:
        return str(rule_filter["And"].get("Prefix", ""))
    return str(rule.get("Prefix", ""))  # the legacy top-level form


def _actions_of(rule: dict[str, Any]) -> list[str]:
    actions: list[str] = []
    expiration = rule.get("Expiration") or {}
    if "Days" in expiration:
        actions.append(f"expire after {expiration['Days']} days")
    if "Date" in expiration:
        actions.append(f"expire on {expiration['Date']}")
    if expiration.get("ExpiredObjectDeleteMarker"):
        actions.append("remove expired delete markers")
    if "NoncurrentVersionExpiration" in rule:
        actions.append(f"delete hidden/old versions after {rule['NoncurrentVersionExpiration'].get('NoncurrentDays')} days")
    if "AbortIncompleteMultipartUpload" in rule:
        actions.append(
            f"abort unfinished uploads after {rule['AbortIncompleteMultipartUpload'].get('DaysAfterInitiation')} days"
        )
    if rule.get("Transitions"):
        actions.append("storage class transitions")
    return actions or ["no action"]
