"""pytest plugin (entry point `mockgateway`): a real gateway for the tests of a client under test.

`mockgateway_live` starts the whole gateway (folders, HTTP, TLS Web API, admin API) in this
process on free ports under a temporary root, once per session.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mockgateway.config import Config
from mockgateway.server import Running, start_in_thread


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def mockgateway_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("mockgateway")
    config = Config(root=root, http_port=_free_port(), tls_port=_free_port())
    running = start_in_thread(config)
    yield running
    running.stop()
    running.stopped.wait(10)
