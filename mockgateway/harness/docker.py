"""The gateway's Docker image, built from this checkout and started with a mounted folder root.

Used by the `mockgateway_docker` fixture. When no Docker engine answers (no daemon, no socket,
no permission, or the `docker` SDK is not installed), `DockerUnavailable` says which, and the
fixture skips with that reason.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IMAGE = "mockgateway:harness"
SOURCE = Path(__file__).resolve().parents[2]  # the checkout holding the Dockerfile


class DockerUnavailable(RuntimeError):
    pass


def client() -> Any:
    """A connected docker SDK client, or DockerUnavailable naming why not."""
    try:
        import docker
    except ImportError:
        raise DockerUnavailable("the docker SDK is not installed (pip install 'mockgateway[harness]')") from None
    _probe_socket()
    engine = None
    try:
        engine = docker.from_env(timeout=10)
        engine.ping()
    except Exception as exc:  # DockerException, requests' ConnectionError, PermissionError, …
        if engine is not None:
            engine.close()
        raise DockerUnavailable(f"no Docker engine reachable: {exc}") from None
    return engine


def _probe_socket() -> None:
    """Fail early, and without leaking the SDK's socket, when the local engine's socket is not there."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if not host.startswith("unix://"):
        return  # tcp:// or ssh://: let the SDK try
    path = host.removeprefix("unix://")
    if not Path(path).exists():
        raise DockerUnavailable(f"no Docker engine reachable: {path} does not exist (no Docker daemon runs here)")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            probe.connect(path)
    except OSError as exc:
        raise DockerUnavailable(f"no Docker engine reachable: cannot connect to {path}: {exc}") from None


@dataclass(slots=True)
class Container:
    container: Any
    root: Path  # the host folder mounted as /oqs
    http: str  # http://127.0.0.1:<published port>

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.container.stop(timeout=5)
        with contextlib.suppress(Exception):
            self.container.remove(force=True)
        with contextlib.suppress(Exception):
            self.container.client.close()

    def logs(self) -> str:
        return bytes(self.container.logs()).decode("utf-8", errors="replace")


def start_container(root: Path, *, source: Path = SOURCE, timeout: float = 120.0) -> Container:
    engine = client()
    if not (source / "Dockerfile").exists():
        raise DockerUnavailable(f"no Dockerfile in {source}: the image builds from a source checkout")
    engine.images.build(path=str(source), tag=IMAGE, rm=True)
    container = engine.containers.run(
        IMAGE,
        detach=True,
        ports={"8080/tcp": ("127.0.0.1", None)},
        volumes={str(root): {"bind": "/oqs", "mode": "rw"}},
    )
    deadline = time.monotonic() + timeout
    http = ""
    while time.monotonic() < deadline:
        container.reload()
        bindings = (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).get("8080/tcp") or []
        if bindings:
            http = f"http://127.0.0.1:{bindings[0]['HostPort']}"
            try:
                with urllib.request.urlopen(http + "/health", timeout=2) as response:
                    if response.status == 200:
                        return Container(container, root, http)
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
        if container.status == "exited":
            break
        time.sleep(0.5)
    logs = bytes(container.logs()).decode("utf-8", errors="replace")[-2000:]
    Container(container, root, http).stop()
    raise RuntimeError(f"the mockgateway container did not become healthy within {timeout:g} s:\n{logs}")
