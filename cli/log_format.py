"""How the server logs: readable lines, or one JSON object per line (TENKAIGEN_LOG_FORMAT=json).

The app logs events as `what happened key=value ...` (job_id, user_id, status ...); the JSON
form keeps the line as `message` and lifts `job_id` and `user_id` into fields of their own,
so a log pipeline can follow one job across processes without parsing text.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# the ids the service writes into its lines (core.logsafe keeps them free of spaces and quotes)
LIFTED_FIELDS = ("job_id", "user_id")
FIELD_PATTERN = re.compile(r"\b(" + "|".join(LIFTED_FIELDS) + r")=([^\s,;]+)")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, job_id/user_id when present."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        for name, value in FIELD_PATTERN.findall(message):
            entry.setdefault(name, value)
        for name in LIFTED_FIELDS:  # logging's `extra=` wins over the text
            if getattr(record, name, None) is not None:
                entry[name] = str(getattr(record, name))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """The root logger's one handler on stderr, in `log_format` (text or json)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
