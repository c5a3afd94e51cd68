"""The studio's Gradio API as an API user calls it, through gradio_client."""

from __future__ import annotations

from pathlib import Path

import pytest
from gradio_client import Client
from PIL import Image

from core.jobs import JobStatus
from tests.ui.conftest import RunningStudio

pytestmark = pytest.mark.slow


@pytest.fixture
def client(studio: RunningStudio):
    api = Client(studio.url, verbose=False)
    yield api
    api.close()


def test_generate_returns_the_design_and_its_mockup(client: Client, studio: RunningStudio):
    status, design, mockup, download, _batch = client.predict(
        prompt="a paper crane over a lake", style="ukiyo-e", product="tote-bag", random_seed=False, seed=1234,
        api_name="/generate",
    )
    assert 'data-status="completed"' in status
    with Image.open(design) as image:
        assert image.size == (1328, 1328)
    with Image.open(mockup) as image:
        assert image.size == (640, 640)
    assert Path(download["value"]).read_bytes() == Path(design).read_bytes()
    job = studio.jobs.list_for_user(studio.settings.local_user, limit=1)[0]
    assert (job.status, job.seed, job.product, job.style) == (JobStatus.COMPLETED, 1234, "tote-bag", "ukiyo-e")


def test_an_edited_final_prompt_sent_through_the_api_is_what_is_generated(client: Client, studio: RunningStudio):
    subject, colors, *_rest, final_prompt, final_negative = client.predict(
        prompt="a red fox", style="anime", product="mug", api_name="/parse")
    assert subject == "fox" and colors == "red"
    client.predict(prompt="a red fox", style="anime", product="mug", subject=subject, colors=colors,
                   final_prompt=final_prompt + ", gold leaf", final_negative=final_negative, api_name="/generate")
    job = studio.jobs.list_for_user(studio.settings.local_user, limit=1)[0]
    assert job.parsed_prompt["prompt"] == final_prompt + ", gold leaf"


def test_a_bad_request_comes_back_as_its_message(client: Client):
    with pytest.raises(Exception, match="prompt is empty"):
        client.predict(prompt="   ", style="anime", product="mug", api_name="/generate")
