"""The admin dashboard's figures: jobs over a window, storage used and what it costs a month.

One call gathers what the studio's Admin tab shows, from the same pieces as the operator
commands (`JobStore.stats`, `ObjectStore.usage`, `estimate_monthly_costs`), so the tab and
`python app.py stats` / `costs` agree. Only callers with the admin role may read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from core.ops.costs import GPU_USD_PER_HOUR, CostEstimate, GpuCost, estimate_gpu_costs, estimate_monthly_costs
from core.auth import Identity
from core.errors import Forbidden, InvalidRequest, StorageError
from core.jobs import JobStore
from core.ops.stats import DEFAULT_WINDOW_DAYS, JobStats, window_start
from core.storage import ObjectStore, StorageUsage

log = logging.getLogger(__name__)

# the windows the Admin tab offers, label -> days
WINDOWS: dict[str, int] = {"24 h": 1, "7 d": 7, "30 d": 30}


@dataclass(frozen=True)
class DashboardReport:
    stats: JobStats
    completed_last_30_days: int  # what the monthly cost estimate counts as uploads and deliveries
    usage: StorageUsage | None  # None when the store could not be listed (storage_error says why)
    costs: CostEstimate | None
    storage_error: str | None = None
    gpu_window: GpuCost | None = None  # the window's jobs
    gpu_month: GpuCost | None = None  # the last 30 days'


class DashboardService:
    def __init__(self, jobs: JobStore, objects: ObjectStore, gpu_usd_per_hour: float = GPU_USD_PER_HOUR) -> None:
        self._jobs = jobs
        self._objects = objects
        self._gpu_usd_per_hour = gpu_usd_per_hour

    def report(self, caller: Identity, window_days: int, now: datetime | None = None) -> DashboardReport:
        """The figures for jobs created in the last `window_days` days.

        Forbidden unless the caller holds the admin role. A storage listing that fails does
        not hide the job figures: the report carries the error instead of usage and costs.
        """
        if not caller.is_admin:
            raise Forbidden("the admin figures need the admin role")
        if window_days < 1:
            raise InvalidRequest(f"the window must be at least one day, got {window_days}")
        stats = self._jobs.stats(window_start(window_days, now))
        month = stats if window_days == DEFAULT_WINDOW_DAYS else self._jobs.stats(window_start(DEFAULT_WINDOW_DAYS, now))
        gpu = {"gpu_window": estimate_gpu_costs(stats, self._gpu_usd_per_hour),
               "gpu_month": estimate_gpu_costs(month, self._gpu_usd_per_hour)}
        try:
            usage = self._objects.usage()
        except StorageError as exc:
            log.warning("storage usage unavailable error=%s", exc)
            return DashboardReport(stats, month.completed, None, None, storage_error=str(exc), **gpu)
        return DashboardReport(stats, month.completed, usage, estimate_monthly_costs(usage, month.completed), **gpu)
