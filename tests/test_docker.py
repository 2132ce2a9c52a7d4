"""The Docker image and compose file: checked statically here, and built and run when a Docker
engine is reachable (the `mockgateway_docker` fixture skips with the reason otherwise)."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import yaml

from mockgateway.cli import parser
from mockgateway.harness.docker import Container

ROOT = Path(__file__).resolve().parents[1]


def _instruction(name: str) -> list[str]:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if line.startswith(name + " ")]
    assert len(found) == 1, f"one {name} expected in the Dockerfile"
    value: list[str] = json.loads(found[0][len(name) + 1 :])
    return value


def test_the_image_command_is_a_valid_serve_command() -> None:
    entrypoint, cmd = _instruction("ENTRYPOINT"), _instruction("CMD")
    assert entrypoint[0] == "mockgateway"
    args = parser().parse_args([*entrypoint[1:], *cmd])
    assert (args.command, args.root, args.host) == ("serve", "/oqs", "0.0.0.0")
    assert (args.http_port, args.tls_port) == (8080, 8443)
    assert args.fixtures is None  # the shipped personas: package data of the installed wheel


def test_compose_mounts_the_folder_root_and_publishes_both_web_api_hosts_on_loopback() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    service = compose["services"]["mockgateway"]
    assert "./var/oqs:/oqs" in service["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in service["ports"])
    published = {port.rsplit(":", 1)[1] for port in service["ports"]}
    assert published == {"8080", "8443", "8444"}  # HTTP, the Web API's login host and its search host (+1)
    args = parser().parse_args([*_instruction("ENTRYPOINT")[1:], *service["command"]])
    assert args.encoding == "Shift_JIS"


def test_the_image_installs_the_wheel_and_lets_in_only_what_builds_it() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines.count("*") == 1
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "mockgateway", "dist"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir /tmp/wheel/mockgateway-*.whl" in dockerfile
    assert " -e " not in dockerfile  # not an editable install of a source tree
    assert "COPY --from=wheel /wheel /tmp/wheel" in dockerfile
    assert "8444" in dockerfile.split("EXPOSE", 1)[1].splitlines()[0]


def test_the_container_answers_over_the_mounted_folders_and_http(mockgateway_docker: Container) -> None:
    root = mockgateway_docker.root
    request = (
        b'<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader><QualificationConfirmationDate>'
        b"20261123</QualificationConfirmationDate><MedicalInstitutionCode>1310112345</MedicalInstitutionCode>"
        b"</MessageHeader><MessageBody><QualificationConfirmSearchInfo><InsurerNumber>01139997</InsurerNumber>"
        b"<InsuredCardSymbol>12-34</InsuredCardSymbol><InsuredIdentificationNumber>5678</InsuredIdentificationNumber>"
        b"<InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19800401</Birthdate>"
        b"</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
    temp = root / "req" / ".OQSsiquc01req_docker.part"
    temp.write_bytes(request)
    os.replace(temp, root / "req" / "OQSsiquc01req_docker.xml")
    result = root / "res" / "OQSsiquc01res_docker.xml"
    deadline = time.monotonic() + 30
    while not result.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert result.exists(), mockgateway_docker.logs()
    assert "<SegmentOfResult>1</SegmentOfResult>" in result.read_bytes().decode("cp932")
    post = urllib.request.Request(mockgateway_docker.http + "/oqs/OQSsiquc01", data=request, method="POST")
    with urllib.request.urlopen(post, timeout=10) as answer:
        assert answer.status == 200
