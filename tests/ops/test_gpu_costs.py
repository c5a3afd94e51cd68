"""GPU time: stored on the job as the worker reports it, summed per finished status on both
databases, and priced by `python app.py stats`, `costs` and the Admin tab."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.auth import Identity
from core.jobs import GpuUsage, JobStore, NewJob
from core.jobs.postgres_store import PostgresJobStore
from core.jobs.sqlite_store import SqliteJobStore
from core.ops.costs import GPU_USD_PER_HOUR, estimate_gpu_costs
from core.ops.dashboard import DashboardService
from core.ops.stats import window_start
from ui.admin_handlers import gpu_html


def new_job(store: JobStore) -> str:
    return store.create(NewJob(user_id="alice", prompt="a fox", style="anime", product="mug", width=8, height=8)).id


def seed_gpu_jobs(store: JobStore) -> None:
    """Two completed images (30 s + 10 s cold start, 50 s), one failure (20 s), one canceled (6 s),
    one completed by the draft renderer (no GPU figure)."""
    for gpu, cold in ((30.0, 10.0), (50.0, 0.0)):
        job_id = new_job(store)
        store.mark_processing(job_id)
        store.mark_completed(job_id, f"ai-generated/alice/{job_id}.png", "/media/x.png", 1, GpuUsage(gpu, cold))
    draft = new_job(store)
    store.mark_processing(draft)
    store.mark_completed(draft, f"ai-generated/alice/{draft}.png", "/media/d.png", 1)
    failed = new_job(store)
    store.mark_processing(failed)
    store.mark_failed(failed, "CUDA out of memory", GpuUsage(20.0, 0.0))
    canceled = new_job(store)
    store.mark_processing(canceled)
    store.mark_canceled(canceled)
    store.record_gpu_usage(canceled, GpuUsage(6.0, 0.0))
    store.record_gpu_usage(canceled, GpuUsage(600.0, 0.0))  # a repeated report changes nothing


def test_the_gpu_time_a_worker_reports_is_stored_on_the_job(job_store: JobStore):
    job_id = new_job(job_store)
    job_store.mark_processing(job_id)
    done = job_store.mark_completed(job_id, "k.png", "/media/k.png", 3, GpuUsage(12.5, 41.25))
    assert (done.gpu_seconds, done.cold_start_seconds) == (12.5, 41.25)
    assert job_store.get(job_id).gpu_seconds == 12.5


def test_stats_sum_gpu_time_per_finished_status(job_store: JobStore):
    seed_gpu_jobs(job_store)
    stats = job_store.stats(window_start(1))
    assert (stats.gpu_completed.measured, stats.gpu_completed.gpu_seconds, stats.gpu_completed.cold_start_seconds) == (
        2, 80.0, 10.0)
    assert (stats.gpu_failed.measured, stats.gpu_failed.total_seconds) == (1, 20.0)
    assert (stats.gpu_canceled.measured, stats.gpu_canceled.total_seconds) == (1, 6.0)


def test_gpu_cost_per_image_counts_measured_images_and_keeps_wasted_work_apart(job_store: JobStore):
    seed_gpu_jobs(job_store)
    cost = estimate_gpu_costs(job_store.stats(window_start(30)), usd_per_hour=3.6)  # $0.001 per second
    assert cost.seconds_per_image == 45.0  # (30 + 10 + 50) / 2: the draft image reported nothing
    assert cost.usd_per_image == pytest.approx(0.045)
    assert cost.wasted_seconds == 26.0
    assert cost.total_usd == pytest.approx(0.116)


def test_the_default_price_is_modals_h100_rate():
    assert GPU_USD_PER_HOUR == pytest.approx(0.001097 * 3600, abs=1e-3)


def test_an_older_sqlite_file_gains_the_gpu_columns(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    SqliteJobStore(path).close()
    with sqlite3.connect(path) as conn:  # as a file made before the columns existed
        conn.execute("ALTER TABLE generation_jobs DROP COLUMN gpu_seconds")
        conn.execute("ALTER TABLE generation_jobs DROP COLUMN cold_start_seconds")
    store = SqliteJobStore(path)
    seed_gpu_jobs(store)
    assert store.stats(window_start(1)).gpu_completed.measured == 2
    store.close()


def expect_gpu_lines(out: str) -> None:
    assert "GPU time       116.0 s = $0.1160  (at $3.6/GPU-hour, TENKAIGEN_GPU_USD_PER_HOUR)" in out
    assert "completed    90.0 s = $0.0900 over 2 images measured; 45.0 s = $0.0450 per image; cold starts 10.0 s" in out
    assert "failed       20.0 s = $0.0200 (1 job)" in out
    assert "canceled     6.0 s = $0.006000 (1 job)" in out


def test_stats_and_costs_show_gpu_time_and_cost_on_sqlite(run_app, data_dir: Path, monkeypatch):
    store = SqliteJobStore(data_dir / "tenkaigen.sqlite3")
    seed_gpu_jobs(store)
    store.close()
    monkeypatch.setenv("TENKAIGEN_GPU_USD_PER_HOUR", "3.6")
    stats = run_app("stats", "--days", "7")
    assert stats.code == 0, stats.err
    expect_gpu_lines(stats.out)
    costs = run_app("costs")
    assert costs.code == 0, costs.err
    assert "GPU, last 30 days (what the workers reported)" in costs.out
    expect_gpu_lines(costs.out)


@pytest.mark.postgres
@pytest.mark.slow
def test_stats_and_costs_show_gpu_time_and_cost_on_postgres(run_app, monkeypatch, pg_url: str,
                                                           pg_store: PostgresJobStore):
    seed_gpu_jobs(pg_store)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("TENKAIGEN_GPU_USD_PER_HOUR", "3.6")
    stats = run_app("stats", "--days", "7")
    assert stats.code == 0, stats.err
    expect_gpu_lines(stats.out)
    costs = run_app("costs")
    assert costs.code == 0, costs.err
    expect_gpu_lines(costs.out)


def test_the_admin_tab_shows_gpu_cost_per_image_and_per_month(sqlite_store, local_store):
    seed_gpu_jobs(sqlite_store)
    report = DashboardService(sqlite_store, local_store, gpu_usd_per_hour=3.6).report(
        Identity(user_id="boss", is_admin=True), window_days=7)
    shown = gpu_html(report)
    assert 'data-figure="gpu-per-image"><span class="tg-value">45.0 s' in shown
    assert 'data-figure="gpu-usd-per-image"><span class="tg-value">$0.04' in shown
    assert 'data-figure="gpu-month"><span class="tg-value">$0.12' in shown
    assert 'data-figure="gpu-wasted"><span class="tg-value">$0.03' in shown
