"""The print tests' apps: the generation service on the draft renderer, and the embedded app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from core.catalog import Catalog
from core.generators import DraftGenerator
from core.jobs.service import GenerationService
from core.parsing import LocalPromptParser
from tests.support.apps import make_settings


@pytest.fixture
def service(sqlite_store, object_store, catalog: Catalog) -> Iterator[GenerationService]:
    generator = DraftGenerator({})
    yield GenerationService(
        jobs=sqlite_store, objects=object_store, parser=LocalPromptParser(catalog), generator=generator,
        catalog=catalog, webhook_url="http://127.0.0.1:9/api/generate/webhook",
    )
    generator.close()


@pytest.fixture
def client(tmp_path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as test_client:
        yield test_client
