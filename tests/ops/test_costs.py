"""core.ops.costs: the B2 and R2 list prices, checked against worked examples done by hand."""

from __future__ import annotations

import pytest

from core.ops.costs import estimate_costs, estimate_monthly_costs, estimated_egress_bytes
from core.storage import StorageUsage

MB = 1_000_000
GB = 1_000_000_000


def test_a_thousand_images_of_half_a_megabyte_cost_a_quarter_cent_a_month_on_b2():
    # 1,000 images of 500 KB = 0.5 GB x $0.005 = $0.0025/month, downloads free
    estimate = estimate_costs(StorageUsage(objects=1000, bytes=500 * MB), egress_bytes=0, writes=0)
    assert estimate.stored_gb == pytest.approx(0.5)
    assert estimate.b2_monthly_usd == pytest.approx(0.0025)
    assert round(estimate.b2_monthly_usd, 3) == 0.003


def test_ten_thousand_images_served_once_stay_inside_b2s_free_egress():
    # 5 GB stored x $0.005 = $0.025; 10,000 x 1 MB = 10 GB downloaded, first 15 GB (3x) free
    estimate = estimate_costs(StorageUsage(objects=10_000, bytes=5 * GB), egress_bytes=10 * GB, writes=10_000)
    assert estimate.b2_free_egress_gb == pytest.approx(15)
    assert estimate.b2_egress_usd == 0
    assert estimate.b2_monthly_usd == pytest.approx(0.025)


def test_r2_charges_storage_and_writes_but_not_egress():
    estimate = estimate_costs(StorageUsage(objects=10_000, bytes=5 * GB), egress_bytes=10 * GB, writes=10_000)
    assert estimate.r2_storage_usd == pytest.approx(0.075)  # 5 GB x $0.015
    assert estimate.r2_writes_usd == pytest.approx(0.045)  # 10,000 x $4.50 / 1,000,000
    assert estimate.r2_monthly_usd == pytest.approx(0.12)
    assert estimate.cheaper == "B2"


def test_b2_charges_egress_beyond_three_times_storage():
    estimate = estimate_costs(StorageUsage(objects=2000, bytes=1 * GB), egress_bytes=10 * GB, writes=0)
    assert estimate.b2_egress_usd == pytest.approx(0.07)  # (10 - 3) GB x $0.01
    assert estimate.b2_monthly_usd == pytest.approx(0.075)


def test_heavy_downloads_make_r2_cheaper():
    # past ~100K views a month, R2's free egress wins
    estimate = estimate_costs(StorageUsage(objects=10_000, bytes=5 * GB), egress_bytes=500 * GB, writes=10_000)
    assert estimate.b2_monthly_usd == pytest.approx(0.025 + 485 * 0.01)
    assert estimate.cheaper == "R2"


def test_nothing_stored_costs_the_same_nothing_on_both():
    estimate = estimate_costs(StorageUsage(objects=0, bytes=0), egress_bytes=0, writes=0)
    assert (estimate.b2_monthly_usd, estimate.r2_monthly_usd, estimate.cheaper) == (0, 0, "same")


def test_egress_is_images_delivered_times_average_size_times_views():
    usage = StorageUsage(objects=4, bytes=4 * MB)
    assert estimated_egress_bytes(usage, images_delivered=10) == 10 * MB
    assert estimated_egress_bytes(usage, images_delivered=10, views_per_image=2.5) == 25 * MB
    assert estimated_egress_bytes(StorageUsage(0, 0), images_delivered=10) == 0
    with pytest.raises(ValueError):
        estimated_egress_bytes(usage, 10, views_per_image=-1)


def test_the_monthly_estimate_counts_one_write_per_completed_image():
    estimate = estimate_monthly_costs(StorageUsage(objects=10_000, bytes=10 * GB), completed_last_30_days=10_000)
    assert estimate.writes == 10_000
    assert estimate.egress_gb == pytest.approx(10)
