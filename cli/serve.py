"""`python app.py` without a command: the API and the studio under uvicorn; with `--workers N`,
N such processes on consecutive ports under a supervisor (cli/supervisor.py)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from cli.log_format import configure_logging
from cli.supervisor import Supervisor, child_command, proxy_config
from core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("tenkaigen")


def serve(create_app: Callable[[Settings], FastAPI], host: str, port: int, share: bool = False,
          workers: int = 1) -> int:
    """Serve the app `create_app` builds from the environment's settings until stopped."""
    settings = Settings()
    configure_logging(settings.log_format)
    if workers > 1:
        return supervise(create_app, host, port, workers)
    import uvicorn

    from ui.share import share_when_started

    app = create_app(settings)
    # json logs: uvicorn's own loggers go through the root handler instead of its text config
    log_config = None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", log_config=log_config))
    if share or settings.gradio_share:
        # the tunnel needs the port open, so it is opened once uvicorn has started
        threading.Thread(target=share_when_started, args=(lambda: server.started, host, port),
                         name="share-link", daemon=True).start()
    log.info("serving on http://%s:%s", host, port)
    server.run()
    return 0


def supervise(create_app: Callable[[Settings], FastAPI], host: str, port: int, workers: int) -> int:
    """`workers` processes of the same entry point (app.py) on ports port .. port+workers-1."""
    entry_file = sys.modules[create_app.__module__].__file__
    assert entry_file, "the app's module has no file to start processes from"
    ports = list(range(port, port + workers))
    log.info("starting %d processes on %s:%d-%d\n%s", workers, host, ports[0], ports[-1], proxy_config(host, ports))
    return Supervisor(child_command(entry_file, host), ports).run()
