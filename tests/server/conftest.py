"""Fixtures for the web service tests: a client factory whose services are stopped at the end."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the web service needs the 'server' extra")

from fastapi.testclient import TestClient  # noqa: E402

from mixassist.server import Settings, create_app  # noqa: E402


@pytest.fixture
def serve(tmp_path):
    """``serve(**settings) -> TestClient`` (started, so workers run); all are closed at the end."""
    clients = []

    def start(**options) -> TestClient:
        options.setdefault("data_dir", tmp_path / "data")
        options.setdefault("workers", 0)
        client = TestClient(create_app(Settings(**options)))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)
