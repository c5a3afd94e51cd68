"""The studio's /generate, called as an API user would: an edited brief is what the model
receives, so it is held to the same policy and limits as the idea."""

from __future__ import annotations

import pytest
from gradio_client import Client

from tests.ui.conftest import RunningStudio

pytestmark = pytest.mark.slow


@pytest.fixture
def client(studio: RunningStudio):
    api = Client(studio.url, verbose=False)
    yield api
    api.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"final_prompt": "Pikachu and Mickey Mouse with a Nike logo"}, "the final prompt mentions 'Nike'"),
        ({"prompt": "Pik\u200bachu surfing"}, "the prompt mentions 'Pikachu'"),
        ({"final_prompt": "a yellow mouse", "subject": "x" * 5000}, "the subject is too long"),
        ({"final_prompt": "a yellow mouse", "colors": "red, " * 100}, "too many colours"),
        ({"final_prompt": "a yellow mouse", "mood": "calm\x00"}, "the mood contains a NUL character"),
    ],
    ids=["final-prompt-policy", "zero-width-idea", "subject-limit", "colour-count", "nul"],
)
def test_an_edited_brief_is_held_to_the_policy_and_limits(client: Client, studio: RunningStudio, fields, message):
    with pytest.raises(Exception, match=message):
        client.predict(**{"prompt": "a yellow mouse", "style": "anime", "product": "mug", **fields},
                       api_name="/generate")
    assert studio.jobs.list_for_user(studio.settings.local_user) == []
