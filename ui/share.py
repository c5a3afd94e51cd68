"""Gradio's share link for the whole app (`make run SHARE=1`, `--share`, TENKAIGEN_SHARE=1).

`launch(share=True)` only exists for an app Gradio serves itself; TenkaiGen mounts the
studio on its own FastAPI app, so it opens the same tunnel Gradio would (gradio.networking,
an frpc process to Gradio's share server) to the port uvicorn listens on. The public URL
then serves the studio, the HTTP API and /docs alike.

It needs outbound internet access; when the tunnel cannot be opened the app keeps serving
locally and the log says why.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlparse, urlunparse

log = logging.getLogger("tenkaigen.share")

TunnelOpener = Callable[[str, int, str, str | None, str | None], str]
# a tunnel to "every interface" must still point at one address
LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def gradio_tunnel(local_host: str, local_port: int, token: str, server: str | None, certificate: str | None) -> str:
    from gradio import networking

    return networking.setup_tunnel(local_host, local_port, token, server, certificate)


def open_share_link(host: str, port: int, opener: TunnelOpener = gradio_tunnel) -> str | None:
    """Open the tunnel and return its public https URL; None (logged) when it cannot be opened."""
    local_host = LOOPBACK_FOR.get(host, host)
    try:
        address = opener(local_host, port, secrets.token_urlsafe(32), None, None)
    except Exception as exc:  # the tunnel code raises many kinds: network, checksum, binary, timeout
        log.error(
            "share link not created: %s. A share link needs outbound internet access to Gradio's share "
            "server (api.gradio.app and *.gradio.live, or GRADIO_SHARE_SERVER_ADDRESS) and, the first time, "
            "the frpc download from cdn-media.huggingface.co. Still serving locally on http://%s:%s",
            str(exc).rstrip("."), host, port,
        )
        return None
    url = urlunparse(("https", *urlparse(address)[1:]))
    log.warning(
        "public share link: %s (valid up to a week, ends when the app stops). Anyone with it uses the "
        "studio and the API as the local user, admin tab included.", url,
    )
    return url


def share_when_started(is_started: Callable[[], bool], host: str, port: int, opener: TunnelOpener = gradio_tunnel,
                       timeout_s: float = 60.0, interval_s: float = 0.1) -> str | None:
    """Wait for the server to accept connections, then open the share link (run it in a thread)."""
    deadline = time.monotonic() + timeout_s
    while not is_started():
        if time.monotonic() > deadline:
            log.error("share link not created: the server did not start within %.0f s", timeout_s)
            return None
        time.sleep(interval_s)
    return open_share_link(host, port, opener)
