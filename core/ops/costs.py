"""Monthly storage cost on Backblaze B2 and Cloudflare R2, from what is stored and served,
and what the GPU time behind the images cost.

What `python app.py costs` and the admin tab show. The prices are the providers' published
list prices as TenkaiGen first planned with them (below); providers change their price lists,
and R2's free tier is not counted here, so check them before deciding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from core.ops.stats import GpuTotals, JobStats
from core.storage.base import StorageUsage

# --- list prices -------------------------------------------------------------------------
# Backblaze B2: "Storage: $0.005/GB/month", "Downloads: $0.01/GB (first 3x storage is free)",
# "API Calls: Free".
B2_STORAGE_USD_PER_GB_MONTH = 0.005
B2_EGRESS_USD_PER_GB = 0.01
B2_FREE_EGRESS_PER_STORED_GB = 3.0
# Cloudflare R2: "Storage: $0.015/GB/month", "Downloads: $0 (completely free!)",
# "Operations: $4.50 per million writes".
R2_STORAGE_USD_PER_GB_MONTH = 0.015
R2_EGRESS_USD_PER_GB = 0.0
R2_USD_PER_MILLION_WRITES = 4.50

# Decimal gigabytes, as providers bill them: 1,000 images of 0.5 MB = 0.5 GB.
BYTES_PER_GB = 1_000_000_000

# --- GPU time ---------------------------------------------------------------------------------
# The default price of a GPU-hour (TENKAIGEN_GPU_USD_PER_HOUR): Modal's H100 list price,
# $0.001097 per second = $3.9492 per hour. Modal's own pricing page (modal.com/pricing) was not
# readable from here; the figure is as quoted from it by two write-ups that agree: techbytes.app's
# "Serverless GPU Pricing Matrix" (prices verified 2026-05-07) and beam.cloud's "Modal Pricing
# Explained" (~$3.95/h, verified 2026-06-27). It is the base rate: Modal's region and
# non-preemptible multipliers, and CPU/memory billed beside the GPU, are not counted.
GPU_USD_PER_HOUR = 3.9492
SECONDS_PER_HOUR = 3600.0

Provider = Literal["B2", "R2", "same"]


@dataclass(frozen=True)
class CostEstimate:
    stored_gb: float
    egress_gb: float  # per month
    writes: int  # per month
    b2_monthly_usd: float
    r2_monthly_usd: float
    cheaper: Provider
    # the parts of each total, for display
    b2_storage_usd: float = 0.0
    b2_egress_usd: float = 0.0
    b2_free_egress_gb: float = 0.0
    r2_storage_usd: float = 0.0
    r2_writes_usd: float = 0.0


def estimate_costs(usage: StorageUsage, egress_bytes: int, writes: int) -> CostEstimate:
    """What one month costs on B2 and on R2 for `usage` stored, `egress_bytes` served and `writes` uploads."""
    stored_gb = usage.bytes / BYTES_PER_GB
    egress_gb = egress_bytes / BYTES_PER_GB

    b2_free_egress_gb = B2_FREE_EGRESS_PER_STORED_GB * stored_gb
    b2_storage = stored_gb * B2_STORAGE_USD_PER_GB_MONTH
    b2_egress = max(0.0, egress_gb - b2_free_egress_gb) * B2_EGRESS_USD_PER_GB
    b2_total = b2_storage + b2_egress  # API calls are free on B2

    r2_storage = stored_gb * R2_STORAGE_USD_PER_GB_MONTH
    r2_writes = writes * R2_USD_PER_MILLION_WRITES / 1_000_000
    r2_total = r2_storage + egress_gb * R2_EGRESS_USD_PER_GB + r2_writes

    return CostEstimate(
        stored_gb=stored_gb,
        egress_gb=egress_gb,
        writes=writes,
        b2_monthly_usd=b2_total,
        r2_monthly_usd=r2_total,
        cheaper=_cheaper(b2_total, r2_total),
        b2_storage_usd=b2_storage,
        b2_egress_usd=b2_egress,
        b2_free_egress_gb=b2_free_egress_gb,
        r2_storage_usd=r2_storage,
        r2_writes_usd=r2_writes,
    )


def _cheaper(b2: float, r2: float) -> Provider:
    if math.isclose(b2, r2, rel_tol=1e-9, abs_tol=1e-12):
        return "same"
    return "B2" if b2 < r2 else "R2"


def average_object_bytes(usage: StorageUsage) -> float:
    return usage.bytes / usage.objects if usage.objects else 0.0


def estimated_egress_bytes(usage: StorageUsage, images_delivered: int, views_per_image: float = 1.0) -> int:
    """Bytes served in a month, estimated: there is no download counter.

    Each image delivered this month (a completed job) is taken to be downloaded
    `views_per_image` times, at the average size of the objects stored under the prefix.
    Views of older images are not counted; raise `views_per_image` to account for them.
    """
    if views_per_image < 0:
        raise ValueError(f"views_per_image cannot be negative, got {views_per_image}")
    return round(images_delivered * average_object_bytes(usage) * views_per_image)


def estimate_monthly_costs(usage: StorageUsage, completed_last_30_days: int, views_per_image: float = 1.0) -> CostEstimate:
    """The estimate both the CLI and the admin tab show: writes are the images completed in
    the last 30 days (one upload each), egress is `estimated_egress_bytes` of them."""
    egress = estimated_egress_bytes(usage, completed_last_30_days, views_per_image)
    return estimate_costs(usage, egress_bytes=egress, writes=completed_last_30_days)


@dataclass(frozen=True)
class GpuCost:
    """What the reported GPU time of a window's jobs cost at `usd_per_hour`.

    Completed images carry their own generation and the cold starts charged to them; failed and
    canceled work is counted apart, as what was spent for no image. Jobs that reported no GPU
    time (the draft renderer, older workers) are left out of the per-image average.
    """

    usd_per_hour: float
    completed: GpuTotals
    failed: GpuTotals
    canceled: GpuTotals

    def usd(self, seconds: float) -> float:
        return seconds * self.usd_per_hour / SECONDS_PER_HOUR

    @property
    def seconds_per_image(self) -> float | None:
        return self.completed.total_seconds / self.completed.measured if self.completed.measured else None

    @property
    def usd_per_image(self) -> float | None:
        per_image = self.seconds_per_image
        return None if per_image is None else self.usd(per_image)

    @property
    def wasted_seconds(self) -> float:
        """GPU time that made no image: failed and canceled work."""
        return self.failed.total_seconds + self.canceled.total_seconds

    @property
    def total_seconds(self) -> float:
        return self.completed.total_seconds + self.wasted_seconds

    @property
    def total_usd(self) -> float:
        return self.usd(self.total_seconds)


def estimate_gpu_costs(stats: JobStats, usd_per_hour: float = GPU_USD_PER_HOUR) -> GpuCost:
    """The GPU cost of the jobs in `stats`' window (a month, for the 30-day window)."""
    if usd_per_hour < 0:
        raise ValueError(f"a GPU-hour cannot cost less than nothing, got {usd_per_hour}")
    return GpuCost(usd_per_hour, stats.gpu_completed, stats.gpu_failed, stats.gpu_canceled)
