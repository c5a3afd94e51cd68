"""DashboardService: what the Admin tab shows, for admins only, storage failures included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.auth import Identity
from core.ops.costs import estimate_monthly_costs
from core.ops.dashboard import DashboardService
from core.errors import Forbidden, StorageError
from core.jobs import NewJob
from core.storage import StorageUsage
from tests.support.jobs import KNOWN_JOBS, JobSeeder


class UnreadableStore:
    prefix = "ai-generated/"

    def usage(self) -> StorageUsage:
        raise StorageError("Failed to list bucket tenkaigen: AccessDenied")


BOSS = Identity(user_id="boss", is_admin=True)
ALICE = Identity(user_id="alice")


@pytest.fixture
def seeded(sqlite_store, tmp_path):
    seeder = JobSeeder(sqlite_store, sqlite_path=tmp_path / "jobs.sqlite3")
    for seed in KNOWN_JOBS:
        seeder.add(seed)
    return sqlite_store


def test_an_admin_gets_the_window_stats_storage_and_costs(seeded, local_store):
    local_store.put_png("ai-generated/alice/a.png", b"\x89PNG" + b"0" * 996)
    report = DashboardService(seeded, local_store).report(BOSS, window_days=7)
    assert (report.stats.total, report.stats.completed, report.stats.failed) == (10, 5, 2)
    assert report.usage == StorageUsage(objects=1, bytes=1000)
    # the monthly estimate counts the last 30 days' completions, whatever the window shown
    assert report.completed_last_30_days == 6
    assert report.costs == estimate_monthly_costs(StorageUsage(1, 1000), 6)


def test_the_30_day_window_is_read_once_and_used_for_the_costs(seeded, local_store):
    report = DashboardService(seeded, local_store).report(BOSS, window_days=30)
    assert report.stats.completed == report.completed_last_30_days == 6


def test_a_caller_without_the_admin_role_is_refused(seeded, local_store):
    with pytest.raises(Forbidden):
        DashboardService(seeded, local_store).report(ALICE, window_days=7)


def test_unreadable_storage_still_shows_the_job_figures(seeded):
    report = DashboardService(seeded, UnreadableStore()).report(BOSS, window_days=7)
    assert report.stats.total == 10
    assert report.usage is None and report.costs is None
    assert "AccessDenied" in (report.storage_error or "")


def test_a_day_window_counts_only_todays_jobs(sqlite_store, local_store):
    sqlite_store.create(NewJob(user_id="a", prompt="x", style="anime", product="mug", width=8, height=8))
    report = DashboardService(sqlite_store, local_store).report(BOSS, 1, now=datetime.now(UTC))
    assert report.stats.total == 1 and report.stats.in_flight == 1
