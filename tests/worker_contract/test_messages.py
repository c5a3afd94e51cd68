"""The wire contract: one set of limits, held by the app and the worker alike."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.catalog import QWEN_IMAGE_SIZES, load_catalog
from core.jobs import service
from core.settings import Settings
from core.worker_contract.messages import (
    MAX_SEED,
    MAX_SIDE,
    MAX_STEPS,
    MIN_SIDE,
    SIZE_MULTIPLE,
    DispatchAccepted,
    DispatchRequest,
)


def dispatch(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {"job_id": "job-1", "prompt": "a fox", "width": 1328, "height": 1328, "seed": 7,
                               "steps": 30, "webhook_url": "http://127.0.0.1:9/api/generate/webhook"}
    body.update(changes)
    return body


def test_every_seed_the_app_stores_is_one_the_worker_accepts():
    assert service.MAX_SEED == MAX_SEED == 2**31 - 1
    assert DispatchRequest.model_validate(dispatch(seed=MAX_SEED)).seed == MAX_SEED
    with pytest.raises(ValidationError, match="seed"):
        DispatchRequest.model_validate(dispatch(seed=MAX_SEED + 1))


def test_the_steps_the_app_may_ask_for_are_the_steps_the_worker_runs():
    assert Settings(TENKAIGEN_GENERATION_STEPS=MAX_STEPS).generation_steps == MAX_STEPS
    with pytest.raises(ValidationError, match="TENKAIGEN_GENERATION_STEPS"):
        Settings(TENKAIGEN_GENERATION_STEPS=MAX_STEPS + 1)
    with pytest.raises(ValidationError, match="steps"):
        DispatchRequest.model_validate(dispatch(steps=MAX_STEPS + 1))


CATALOG_SIZES = sorted(set(QWEN_IMAGE_SIZES) | {tuple(p.generation_size) for p in load_catalog().products.values()})


@pytest.mark.parametrize("size", CATALOG_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_every_size_the_catalog_asks_for_is_one_the_worker_makes(size):
    assert all(side % SIZE_MULTIPLE == 0 and MIN_SIDE <= side <= MAX_SIDE for side in size), size


def test_the_dispatch_body_travels_as_json_and_comes_back_the_same():
    request = DispatchRequest.model_validate(dispatch())
    body = request.model_dump(mode="json", exclude_none=True)
    assert body["webhook_url"] == "http://127.0.0.1:9/api/generate/webhook" and "true_cfg_scale" not in body
    assert DispatchRequest.model_validate(body) == request


def test_the_worker_answers_accepted_or_already_accepted():
    assert DispatchAccepted(job_id="job-1", status="already accepted", queue_depth=0).status == "already accepted"
    with pytest.raises(ValidationError):
        DispatchAccepted(job_id="job-1", status="queued", queue_depth=0)
