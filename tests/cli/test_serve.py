"""`python app.py --workers N` (the supervisor) and TENKAIGEN_LOG_FORMAT=json."""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

import pytest

from cli.log_format import JsonLogFormatter
from cli.parser import parse_args
from cli.supervisor import Supervisor, proxy_config
from tests.support.servers import wait_until


def test_json_logs_are_one_object_per_line_with_the_job_and_user_ids():
    record = logging.LogRecord("core.jobs.service", logging.INFO, __file__, 1,
                               "job created job_id=%s user_id=%s style=%s", ("j-1", "ada", "anime"), None)
    line = JsonLogFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["job_id"] == "j-1" and entry["user_id"] == "ada" and entry["level"] == "INFO"
    assert entry["message"] == "job created job_id=j-1 user_id=ada style=anime"


def test_a_line_without_ids_has_no_id_fields():
    record = logging.LogRecord("uvicorn", logging.INFO, __file__, 1, "serving on %s", ("x",), None)
    assert {"job_id", "user_id"}.isdisjoint(json.loads(JsonLogFormatter().format(record)))


def test_workers_and_a_share_link_do_not_go_together():
    assert parse_args(["--workers", "3"]).workers == 3
    with pytest.raises(SystemExit):
        parse_args(["--workers", "2", "--share"])
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0"])


def test_the_proxy_config_names_every_process_and_a_sticky_policy():
    text = proxy_config("127.0.0.1", [8001, 8002])
    assert "server 127.0.0.1:8001;" in text and "server 127.0.0.1:8002;" in text and "ip_hash;" in text
    assert "reverse_proxy 127.0.0.1:8001 127.0.0.1:8002" in text and "lb_policy cookie" in text


def test_the_supervisor_restarts_a_process_that_exits_and_stops_them_all(tmp_path):
    # each "app process" appends its port and exits at once, except on its second start
    script = tmp_path / "child.py"
    script.write_text(
        "import os, sys, time\n"
        "port = sys.argv[-1]\n"
        "log = os.path.join(sys.argv[1], port)\n"
        "open(log, 'a').write(os.environ['PROMETHEUS_MULTIPROC_DIR'] + '\\n')\n"
        "if len(open(log).read().splitlines()) >= 2: time.sleep(600)\n")
    supervisor = Supervisor([sys.executable, str(script), str(tmp_path)], [9101, 9102],
                            env={"PATH": "/usr/bin:/bin"})
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    try:
        wait_until(lambda: all(c.restarts >= 1 and c.process and c.process.poll() is None for c in supervisor.children),
                   timeout_s=30, what="both processes restarted and running")
    finally:
        supervisor.stop()
        runner.join(timeout=30)
    assert not runner.is_alive()
    assert all(c.process.poll() is not None for c in supervisor.children)
    dirs = {line for port in ("9101", "9102") for line in (tmp_path / port).read_text().splitlines()}
    assert len(dirs) == 1  # every process shares one metrics folder, removed at the end
    assert not any(Path(d).exists() for d in dirs)
