"""The Admin tab's report as its handler builds it: the jobs-per-day parts say what they are,
and a window without failures says so instead of showing an empty table."""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr
import pytest

from app import build_services
from core.jobs import JobStatus
from core.services import Services
from tests.support.apps import make_settings
from tests.support.jobs import JobSeeder, Seed
from ui.admin_handlers import CANCELED_OR_IN_FLIGHT, AdminHandlers
from ui.admin_tab import create_admin_tab
from ui.components import AdminComponents
from ui.context import StudioContext
from ui.files import StudioFiles


@pytest.fixture
def services(tmp_path) -> Iterator[Services]:
    built = build_services(make_settings(tmp_path))
    yield built
    built.close()


def admin_tab(services: Services, tmp_path) -> tuple[AdminComponents, AdminHandlers]:
    ctx = StudioContext.from_services(services, StudioFiles(services.generation, tmp_path / "files"))
    with gr.Blocks(), gr.Tab("Admin") as tab:
        admin = create_admin_tab(ctx, tab)
    return admin, AdminHandlers(ctx, admin)


def test_a_window_without_failures_says_so_instead_of_an_empty_table(services, tmp_path):
    admin, handlers = admin_tab(services, tmp_path)
    shown = handlers.show_report("7 d", None)  # sign-in off: the local user, an admin
    assert shown[admin.failures].visible is False and shown[admin.failures_note].visible is True

    seeder = JobSeeder(services.generation.jobs, sqlite_path=services.settings.sqlite_path)
    seeder.add(Seed(JobStatus.FAILED, day=6, error="worker timed out"))
    shown = handlers.show_report("7 d", None)
    assert shown[admin.failures].visible is True and shown[admin.failures_note].visible is False
    assert "worker timed out" in str(shown[admin.failures].value)


def test_jobs_per_day_names_the_part_that_is_neither_completed_nor_failed(services, tmp_path):
    admin, handlers = admin_tab(services, tmp_path)
    JobSeeder(services.generation.jobs, sqlite_path=services.settings.sqlite_path).add(Seed(JobStatus.CANCELED, day=6))
    frame = handlers.show_report("7 d", None)[admin.per_day]
    assert set(frame["outcome"]) == {"completed", "failed", CANCELED_OR_IN_FLIGHT}
    assert frame.loc[frame["outcome"] == CANCELED_OR_IN_FLIGHT, "jobs"].sum() == 1
