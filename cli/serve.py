"""`python app.py` without a command: the API and the studio under uvicorn."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("tenkaigen")


def serve(create_app: Callable[[Settings], FastAPI], host: str, port: int, share: bool = False) -> int:
    """Serve the app `create_app` builds from the environment's settings until stopped."""
    import uvicorn

    from ui.share import share_when_started

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
    if share or settings.gradio_share:
        # the tunnel needs the port open, so it is opened once uvicorn has started
        threading.Thread(target=share_when_started, args=(lambda: server.started, host, port),
                         name="share-link", daemon=True).start()
    log.info("serving on http://%s:%s", host, port)
    server.run()
    return 0
