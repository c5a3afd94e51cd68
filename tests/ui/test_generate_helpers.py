"""The Generate tab's plain helpers: aspect labels, the edited brief, and settings from a job."""

from __future__ import annotations

from datetime import UTC, datetime

from core.jobs import Job, JobStatus
from ui.generate_handlers import aspect_label, brief_overrides, product_summary
from ui.job_views import settings_values


def test_aspect_labels_are_small_ratios_or_decimals():
    assert aspect_label(1104, 1472) == "3:4"
    assert aspect_label(1328, 1328) == "1:1"
    assert aspect_label(1664, 928) == "1.79:1"
    assert aspect_label(928, 1664) == "1:1.79"


def test_the_product_summary_shows_aspect_size_and_print_area(catalog):
    assert product_summary(catalog.product("t-shirt")) == (
        "**Aspect 3:4** · generated at 1136×1520 px · prints 12×16 in at 150 dpi"
    )
    assert product_summary(catalog.product("mug")).startswith("**Aspect 18:7** · generated at 2048×800 px")


def test_the_product_summary_says_when_the_model_cannot_match_the_print_areas_aspect(catalog):
    banner = catalog.product("mug").model_copy(update={"print_area_in": (20.0, 2.0)})
    assert "outside what the model makes" in product_summary(banner)


def test_an_empty_final_prompt_means_no_edited_brief():
    assert brief_overrides("fox", "red", "", "", "   ", "blur") is None


def test_a_filled_brief_becomes_overrides_with_colours_split():
    overrides = brief_overrides("fox", "red, gold ,", "calm", "", "a fox, ink", "")
    assert overrides == {"subject": "fox", "colors": ["red", "gold"], "mood": "calm", "composition": "",
                         "prompt": "a fox, ink", "negative_prompt": ""}


def test_settings_from_a_job_reproduce_its_brief_and_seed():
    brief = {"subject": "fox", "style": "anime", "colors": ["red"], "mood": None, "composition": "centered",
             "product": "mug", "aspect_ratio": "1664:928", "width": 1664, "height": 928, "prompt": "edited fox",
             "negative_prompt": "blur", "steps": 12}
    now = datetime.now(UTC)
    job = Job(id="j", user_id="u", prompt="a fox", parsed_prompt=brief, style="anime", product="mug", width=1664,
              height=928, seed=77, status=JobStatus.COMPLETED, created_at=now, updated_at=now)
    *values, brief_panel = settings_values(job)
    assert values == ["a fox", "anime", "mug", 77, False, 12, "blur", 1, "fox", "red", "", "centered", "edited fox", "blur"]
    assert brief_panel.open is True
