"""Harness settings: the TOML file, command-line overrides, and refusals that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgateway.harness.adapters import CommandAdapter, FolderAdapter, ReferenceAdapter
from mockgateway.harness.settings import HarnessSettings, SettingsError, load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mockgateway-harness.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_file_with_paths_relative_to_it(tmp_path: Path) -> None:
    settings = load(
        write(
            tmp_path,
            """
            [client]
            adapter = "folder"
            capabilities = ["eligibility", "bulk"]
            timeout_seconds = 12
            [folders]
            root = "oqs"
            orders = "/srv/orders"
            [http]
            port = 8080
            [report]
            dir = "out"
            """,
        )
    )
    assert settings.adapter == "folder"
    assert settings.claimed() == {"eligibility", "bulk", "folder"}  # the folder adapter implies folders
    assert settings.http_port == 8080
    assert settings.order_timeout == 12
    assert settings.root == tmp_path / "oqs"
    assert settings.orders == Path("/srv/orders")
    assert settings.report_dir == tmp_path / "out"
    adapter = settings.make_adapter()
    assert isinstance(adapter, FolderAdapter)
    assert adapter.orders == Path("/srv/orders")


def test_options_override_the_file(tmp_path: Path) -> None:
    base = load(write(tmp_path, '[client]\nadapter = "folder"\n'))
    settings = base.with_options(adapter="command", command="vendor --json", capabilities="all", timeout="3")
    adapter = settings.make_adapter()
    assert isinstance(adapter, CommandAdapter)
    assert list(adapter.command) == ["vendor", "--json"]
    assert adapter.cwd == tmp_path  # the command runs beside its settings file
    assert "bulk" in settings.claimed()
    assert settings.order_timeout == 3.0


def test_defaults_are_the_reference_client_claiming_everything() -> None:
    settings = HarnessSettings()
    assert isinstance(settings.make_adapter(), ReferenceAdapter)
    assert "raw-request" in settings.claimed()
    assert settings.order_timeout == 15.0
    assert HarnessSettings(adapter="folder").claimed() == {"eligibility", "folder"}
    assert HarnessSettings(adapter="command").claimed() == {"eligibility"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[clients]\n", r"unknown table \[clients\]"),
        ("[client]\nadaptor = 'folder'\n", r"unknown keys \['adaptor'\] in \[client\]"),
        ("[client]\nadapter = 'ftp'\n", "adapter 'ftp'; choose one of"),
        ("[client]\ncapabilities = ['x-ray']\n", r"unknown capabilities \['x-ray'\]"),
        ("[client\n", "mockgateway-harness.toml"),
    ],
)
def test_a_wrong_file_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load(write(tmp_path, text))


def test_a_folder_adapter_needs_somewhere_for_orders() -> None:
    with pytest.raises(SettingsError, match="needs an orders folder"):
        HarnessSettings(adapter="folder").make_adapter()
    assert HarnessSettings(adapter="folder", root=Path("/srv/oqs")).make_adapter().orders == Path("/srv/orders")  # type: ignore[attr-defined]
