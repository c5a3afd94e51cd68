"""Readable text for each operator command's result. No I/O here: callers print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from core.ops.costs import (
    B2_EGRESS_USD_PER_GB,
    B2_STORAGE_USD_PER_GB_MONTH,
    GPU_USD_PER_HOUR,
    R2_STORAGE_USD_PER_GB_MONTH,
    R2_USD_PER_MILLION_WRITES,
    CostEstimate,
    GpuCost,
    average_object_bytes,
    estimate_gpu_costs,
)
from core.ops.doctor import CheckResult
from core.ops.lifecycle import LifecycleChange, RuleSummary
from core.ops.stats import JobStats
from core.storage import StorageUsage


@dataclass(frozen=True)
class Marks:
    ok: str
    fail: str


def marks_for(stream: TextIO) -> Marks:
    """✓/✗ where the terminal can show them, OK/FAIL where it cannot (an ASCII locale, a pipe)."""
    try:
        "✓✗".encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return Marks("OK", "FAIL")
    return Marks("✓", "✗")


# --- doctor -----------------------------------------------------------------------------------
def render_doctor(results: Sequence[CheckResult], marks: Marks) -> str:
    width = max(len(r.name) for r in results)
    lines = []
    for r in results:
        lines.append(f"{marks.ok if r.ok else marks.fail} {r.name.ljust(width)}  {r.detail}")
        if not r.ok and r.fix:
            lines.append(f"  {' ' * width}  fix: {r.fix}")
    failures = sum(not r.ok for r in results)
    summary = "all checks passed" if not failures else f"{failures} of {len(results)} checks failed"
    return "\n".join([*lines, "", summary])


# --- migrate ----------------------------------------------------------------------------------
def render_migrate(where: str, applied: Sequence[str], known: int) -> str:
    if not applied:
        return f"Postgres at {where}: up to date ({known} migration(s) applied)"
    return "\n".join([f"Postgres at {where}:", *(f"  applied {name}" for name in applied),
                      f"{len(applied)} migration(s) applied; now up to date"])


# --- stats ------------------------------------------------------------------------------------
def duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def seconds(value: float) -> str:
    return f"{value:,.1f} s"


def render_gpu(gpu: GpuCost) -> list[str]:
    """GPU time and its cost: per completed image, completed in all, and failed/canceled work."""
    per_image = gpu.seconds_per_image
    per_image_text = "-" if per_image is None else f"{seconds(per_image)} = {usd(gpu.usd(per_image))} per image"
    return [
        f"  GPU time       {seconds(gpu.total_seconds)} = {usd(gpu.total_usd)}"
        f"  (at ${gpu.usd_per_hour:g}/GPU-hour, TENKAIGEN_GPU_USD_PER_HOUR)",
        f"    completed    {seconds(gpu.completed.total_seconds)} = {usd(gpu.usd(gpu.completed.total_seconds))}"
        f" over {count(gpu.completed.measured, 'image')} measured; {per_image_text}"
        f"; cold starts {seconds(gpu.completed.cold_start_seconds)}",
        f"    failed       {seconds(gpu.failed.total_seconds)} = {usd(gpu.usd(gpu.failed.total_seconds))}"
        f" ({count(gpu.failed.measured, 'job')})",
        f"    canceled     {seconds(gpu.canceled.total_seconds)} = {usd(gpu.usd(gpu.canceled.total_seconds))}"
        f" ({count(gpu.canceled.measured, 'job')})",
    ]


def render_stats(stats: JobStats, gpu_usd_per_hour: float = GPU_USD_PER_HOUR) -> str:
    rate = "-" if stats.success_rate is None else f"{stats.success_rate:.1%}"
    lines = [
        f"Jobs created in the last {stats.window_days} days",
        f"  total          {stats.total}",
        f"  completed      {stats.completed}",
        f"  failed         {stats.failed}",
        f"  canceled       {stats.canceled}",
        f"  in flight      {stats.in_flight}  (pending or processing)",
        f"  success rate   {rate}  (completed / (completed + failed))",
        f"  processing     avg {duration(stats.avg_processing_ms)} · p50 {duration(stats.p50_processing_ms)}"
        f" · p95 {duration(stats.p95_processing_ms)}  (completed jobs)",
        *render_gpu(estimate_gpu_costs(stats, gpu_usd_per_hour)),
    ]
    if stats.by_style:
        lines.append("  by style       " + ", ".join(f"{k} {v}" for k, v in stats.by_style.items()))
    if stats.by_product:
        lines.append("  by product     " + ", ".join(f"{k} {v}" for k, v in stats.by_product.items()))
    busy_days = [d for d in stats.jobs_per_day if d.total]
    if busy_days:
        lines += ["", "Per day (UTC, days with jobs)"]
        lines += [f"  {d.day.isoformat()}  {d.total:>5} jobs  {d.completed:>5} completed  {d.failed:>5} failed"
                  for d in busy_days]
    if stats.recent_failures:
        lines += ["", "Recent failures"]
        for f in stats.recent_failures:
            error = " ".join((f.error or "").split())
            error = error if len(error) <= 80 else error[:79] + "…"
            lines.append(f"  {f.created_at:%Y-%m-%d %H:%M}  {f.job_id}  {f.style}/{f.product}  {error}")
    return "\n".join(lines)


# --- costs ------------------------------------------------------------------------------------
def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def usd(amount: float) -> str:
    """Dollars with enough decimals that a small bill does not print as $0.00."""
    if amount == 0:
        return "$0"
    if amount < 0.01:
        return f"${amount:.6f}"
    return f"${amount:,.4f}" if amount < 1 else f"${amount:,.2f}"


def render_costs(
    estimate: CostEstimate,
    usage: StorageUsage,
    where: str,
    completed: int,
    views_per_image: float,
    gpu: GpuCost | None = None,
) -> str:
    average_mb = average_object_bytes(usage) / 1_000_000
    cheaper = {"B2": "Backblaze B2", "R2": "Cloudflare R2", "same": "neither (same cost)"}[estimate.cheaper]
    gpu_lines = ["", "GPU, last 30 days (what the workers reported)", *render_gpu(gpu)] if gpu is not None else []
    return "\n".join([
        f"Stored under {where}: {count(usage.objects, 'object')}, {estimate.stored_gb:,.3f} GB",
        f"Last 30 days: {count(completed, 'image')} completed → {count(estimate.writes, 'write')}",
        f"Egress estimate: {estimate.egress_gb:,.3f} GB/month = {count(completed, 'image')} × {average_mb:.2f} MB average"
        f" × {views_per_image:g} view(s) each (--views-per-image)",
        "",
        f"  Backblaze B2   {usd(estimate.b2_monthly_usd)}/month"
        f"  = storage {usd(estimate.b2_storage_usd)} + egress {usd(estimate.b2_egress_usd)}"
        f" (first {estimate.b2_free_egress_gb:,.3f} GB free = 3× storage); API calls free",
        f"  Cloudflare R2  {usd(estimate.r2_monthly_usd)}/month"
        f"  = storage {usd(estimate.r2_storage_usd)} + writes {usd(estimate.r2_writes_usd)}; egress free",
        "",
        f"Cheaper at this usage: {cheaper}",
        f"List prices: B2 ${B2_STORAGE_USD_PER_GB_MONTH}/GB-month, ${B2_EGRESS_USD_PER_GB}/GB egress"
        f" after 3× storage; R2 ${R2_STORAGE_USD_PER_GB_MONTH}/GB-month, ${R2_USD_PER_MILLION_WRITES:.2f} per million writes.",
        *gpu_lines,
    ])


# --- lifecycle --------------------------------------------------------------------------------
def render_rule(rule: RuleSummary) -> str:
    state = "" if rule.enabled else " (disabled)"
    mine = "  ← TenkaiGen's rule" if rule.ours else ""
    prefix = rule.prefix or "(whole bucket)"
    return f"  {rule.rule_id or '(no id)'}  prefix {prefix}  {'; '.join(rule.actions)}{state}{mine}"


def render_rules(bucket: str, rules: Sequence[RuleSummary]) -> str:
    if not rules:
        return f"Bucket {bucket!r} has no lifecycle rules: objects are kept until deleted."
    return "\n".join([f"Lifecycle rules of bucket {bucket!r}:", *(render_rule(r) for r in rules)])


def render_lifecycle_change(bucket: str, change: LifecycleChange) -> str:
    verb = "replaced" if change.replaced else "added"
    kept = f"; {change.kept} other rule(s) kept" if change.kept else ""
    return "\n".join([f"Bucket {bucket!r}: {verb} rule {change.rule.rule_id}{kept}", render_rule(change.rule),
                      "Providers apply lifecycle rules about once a day."])
