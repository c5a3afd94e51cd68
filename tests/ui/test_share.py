"""The share link: opened through Gradio's tunnel once the server is up, and a readable log
line (the app keeps serving) when it cannot be opened."""

from __future__ import annotations

import logging

from cli.parser import parse_args
from tests.support.apps import make_settings
from ui.share import open_share_link, share_when_started


def test_share_is_off_unless_asked_for(tmp_path):
    assert parse_args([]).share is False
    assert parse_args(["--share", "--port", "9000"]).share is True
    assert make_settings(tmp_path).gradio_share is False
    assert make_settings(tmp_path, TENKAIGEN_SHARE="1").gradio_share is True


def test_the_tunnel_points_at_loopback_and_the_link_is_https(caplog):
    opened = []

    def tunnel(host, port, token, server, certificate):
        opened.append((host, port, len(token) > 20, server))
        return "http://abc123.gradio.live"

    with caplog.at_level(logging.WARNING, logger="tenkaigen.share"):
        assert open_share_link("0.0.0.0", 7860, tunnel) == "https://abc123.gradio.live"
    assert opened == [("127.0.0.1", 7860, True, None)]
    assert "public share link: https://abc123.gradio.live" in caplog.text


def test_without_network_the_failure_is_logged_and_nothing_is_raised(caplog):
    def offline(*_):
        raise RuntimeError("Could not get share link from Gradio API Server.")

    with caplog.at_level(logging.ERROR, logger="tenkaigen.share"):
        assert open_share_link("127.0.0.1", 7860, offline) is None
    assert "share link not created: Could not get share link" in caplog.text
    assert "needs outbound internet access" in caplog.text and "Still serving locally" in caplog.text


def test_the_tunnel_waits_for_the_server_to_start():
    checks = iter([False, False, True])
    opened = []
    link = share_when_started(lambda: next(checks), "127.0.0.1", 7860,
                              lambda *args: opened.append(args[:2]) or "http://x.gradio.live", interval_s=0)
    assert link == "https://x.gradio.live" and opened == [("127.0.0.1", 7860)]


def test_a_server_that_never_starts_gets_no_tunnel(caplog):
    with caplog.at_level(logging.ERROR, logger="tenkaigen.share"):
        assert share_when_started(lambda: False, "127.0.0.1", 7860, lambda *a: "never", timeout_s=0.05,
                                  interval_s=0.01) is None
    assert "did not start" in caplog.text
