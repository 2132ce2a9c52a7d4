"""Driving the reader of a running gateway: the admin API routes and `mockgateway reader …`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockgateway.cli import main
from mockgateway.config import Config
from mockgateway.server import Running, start_in_thread

TOKEN = "card-admin-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.root = running.config.root
        self.base = f"http://127.0.0.1:{running.config.http_port}"

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, self.base + path, headers={"X-Admin-Token": TOKEN}, timeout=30, **kwargs)  # type: ignore[arg-type]

    def cli(self, *args: str) -> list[str]:
        return ["reader", *args, "--url", self.base, "--token", TOKEN]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root: Path = tmp_path_factory.mktemp("oqs")
    config = Config(root=root, http_port=_free_port(), tls_port=None, admin_token=TOKEN, poll_interval=0.05)
    running = start_in_thread(config)
    yield Live(running)
    running.stop()
    running.stopped.wait(10)


@pytest.fixture
def fresh(live: Live) -> Live:
    assert live.admin("POST", "/admin/reset").status_code == 200
    assert live.admin("POST", "/admin/clock", json={"now": "20261123100000", "running": False}).status_code == 200
    assert live.admin("PUT", "/admin/reader/settings", json={"error_files": False}).status_code == 200
    for stale in (live.root / "face").glob("*"):
        stale.unlink()
    return live


def test_place_over_the_admin_api_writes_the_face_file(fresh: Live) -> None:
    answer = fresh.admin(
        "POST",
        "/admin/reader/place",
        json={"person_id": "hoken-taro", "mode": "pin", "pins": ["1234"], "consents": ["drug", "checkup"]},
    )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["outcome"] == "confirmed"
    assert doc["method"] == "pin"
    assert doc["consents_given"] == ["PharmacistsInfo", "SpecificHealthCheckupsInfo"]
    assert doc["certificate"]["status"] == "valid"
    path = fresh.root / "face" / doc["face_file"]
    assert path.exists()
    assert "<ReferenceClassification>1</ReferenceClassification>" in doc["face_xml"]
    assert path.read_bytes().decode("cp932") == doc["face_xml"]
    last = fresh.admin("GET", "/admin/reader/last").json()
    assert last["journal_id"] == doc["journal_id"]
    journal = fresh.admin("GET", "/admin/journal?transport=face").json()["entries"]
    assert journal[-1]["id"] == doc["journal_id"]
    assert journal[-1]["extra"]["face"]["person_id"] == "hoken-taro"


def test_the_readers_error_over_the_admin_api(fresh: Live) -> None:
    doc = fresh.admin("POST", "/admin/reader/place", json={"card": "generic"}).json()
    assert doc["outcome"] == "reader_error"
    assert doc["error"]["id"] == "002"
    assert doc["face_file"] is None
    assert not list((fresh.root / "face").glob("*"))
    assert fresh.admin("GET", "/admin/reader/last").json()["error"]["id"] == "002"


def test_bad_placements_are_400(fresh: Live) -> None:
    for body in ({"person_id": "nobody"}, {"person_id": "hoken-taro", "mode": "pin"}, {"person_id": "x", "y": 1}, []):
        answer = fresh.admin("POST", "/admin/reader/place", json=body)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["error"]


def test_settings_and_cards(fresh: Live) -> None:
    settings = fresh.admin("PUT", "/admin/reader/settings", json={"error_files": True, "grace_rule": "expiry_day"})
    assert settings.json()["grace_rule"] == "expiry_day"
    assert fresh.admin("GET", "/admin/reader/settings").json()["error_files"] is True
    assert fresh.admin("PUT", "/admin/reader/settings", json={"grace_rule": "x"}).status_code == 400
    fresh.admin("PUT", "/admin/reader/settings", json={"grace_rule": "month_end"})
    card = fresh.admin("GET", "/admin/cards?id=myna-yuyo").json()
    assert card["status"] == "grace"
    assert card["grace_until"] == "20270131"
    assert card["registered"] is True
    assert fresh.admin("GET", "/admin/cards?id=nobody").status_code == 404
    assert "myna-yuyo" in [c["person_id"] for c in fresh.admin("GET", "/admin/cards").json()["cards"]]
    revoked = fresh.admin("POST", "/admin/cards/revoke", json={"person_id": "hoken-taro"}).json()
    assert revoked["revoked"] is True
    assert fresh.admin("GET", "/admin/cards?id=hoken-taro").json()["status"] == "revoked"


def test_pin_reset_like_the_municipal_office(fresh: Live) -> None:
    wrong = {"person_id": "kouki-ume", "mode": "pin", "pins": ["0000", "0001", "0002"]}
    assert fresh.admin("POST", "/admin/reader/place", json=wrong).json()["error"]["id"] == "M01"
    assert fresh.admin("GET", "/admin/cards?id=kouki-ume").json()["pin_tries"] == 0
    assert fresh.admin("POST", "/admin/cards/reset-pin", json={"person_id": "kouki-ume"}).json()["pin_tries"] == 3
    right = {"person_id": "kouki-ume", "mode": "pin", "pins": ["1234"]}
    assert fresh.admin("POST", "/admin/reader/place", json=right).json()["outcome"] == "confirmed"


def test_cli_reader_place(fresh: Live, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(fresh.cli("place", "hoken-taro", "--mode", "pin", "--pin", "1234", "--consent", "drug,checkup"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "confirmed by pin" in out
    name = next(line for line in out.splitlines() if line.startswith("face/")).removeprefix("face/")
    assert (fresh.root / "face" / name).exists()
    assert main(fresh.cli("place", "myna-kigire", "--mode", "face")) == 1
    assert "reader error 006" in capsys.readouterr().out
    assert main(fresh.cli("last", "--json")) == 1
    assert json.loads(capsys.readouterr().out)["error"]["id"] == "006"
    assert main(fresh.cli("place", "--generic-card", "--json")) == 1
    assert json.loads(capsys.readouterr().out)["error"]["id"] == "002"
    assert main(fresh.cli("cards", "hoken-taro")) == 0
    assert json.loads(capsys.readouterr().out)["person_id"] == "hoken-taro"


def test_cli_reader_fallback_mic_and_removal(fresh: Live, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["place", "hoken-taro", "--face", "mismatch", "--fallback", "visual", "--mic", "1310110018", "--json"]
    assert main(fresh.cli(*args)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["method"] == "visual"
    assert doc["medical_institution"] == "1310110018"
    assert main(fresh.cli("place", "hoken-taro", "--mode", "pin", "--pin", "1234", "--remove-at", "signature")) == 1
    assert "reader error 001" in capsys.readouterr().out


def test_cli_exit_codes_tell_a_refusal_from_a_failure_to_ask(
    fresh: Live, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """1: the reader refused the card; 2: bad arguments; 3: no gateway; 4: no or a wrong token."""
    assert main(fresh.cli("place", "myna-kigire", "--mode", "face")) == 1
    assert main(fresh.cli("place", "nobody")) == 2
    assert "NG HTTP 400" in capsys.readouterr().err
    assert main(fresh.cli("place")) == 2
    assert "person id" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(fresh.cli("place", "hoken-taro", "--mode", "telepathy"))
    assert usage.value.code == 2
    assert main(["reader", "last", "--url", fresh.base, "--root", str(tmp_path)]) == 4
    assert "no admin token" in capsys.readouterr().err
    assert main(["reader", "last", "--url", fresh.base, "--token", "not-the-token"]) == 4
    (tmp_path / "admin-token").write_text(TOKEN + "\n", encoding="ascii")
    assert main(["reader", "cards", "--url", fresh.base, "--root", str(tmp_path)]) == 0
    assert main(["reader", "last", "--url", f"http://127.0.0.1:{_free_port()}", "--token", "x", "--timeout", "2"]) == 3
    assert "cannot reach" in capsys.readouterr().err


def test_cli_help_shows_the_url_default_and_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["reader", "place", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: http://127.0.0.1:8080)" in text
    assert "1 the reader refused the card" in text
