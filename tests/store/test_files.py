from __future__ import annotations

from pathlib import Path

import pytest

from mockgateway.store.files import TEMP_PREFIX, atomic_write


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    first = atomic_write(tmp_path, "OQSsiquc01res_1.xml", b"<old/>")
    second = atomic_write(tmp_path, "OQSsiquc01res_1.xml", b"<new/>")
    assert first == second == tmp_path / "OQSsiquc01res_1.xml"
    assert second.read_bytes() == b"<new/>"
    assert [p.name for p in tmp_path.iterdir()] == ["OQSsiquc01res_1.xml"]


def test_atomic_write_cleans_up_when_the_rename_fails(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # a folder where the file should go: os.replace refuses
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path, "taken", b"x")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
