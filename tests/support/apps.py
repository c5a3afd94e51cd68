"""Building the real app for tests, from settings only (as app.py does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings


def make_settings(data_dir: Path, **values: Any) -> Settings:
    """Settings for one test: its own data folder, no .env file, explicit overrides by alias."""
    return Settings(_env_file=None, TENKAIGEN_DATA_DIR=data_dir, **values)


def s3_settings(endpoint: str, bucket: str) -> dict[str, Any]:
    return {
        "B2_S3_ENDPOINT": endpoint,
        "B2_S3_REGION": "us-east-1",
        "B2_S3_BUCKET": bucket,
        "B2_S3_ACCESS_KEY_ID": "testing",
        "B2_S3_SECRET_ACCESS_KEY": "testing",
    }
