"""Runs every scenario in features/ (Japanese Gherkin) against the reference client."""

from pathlib import Path

from pytest_bdd import scenarios

scenarios(str(Path(__file__).resolve().parents[2] / "features"))
