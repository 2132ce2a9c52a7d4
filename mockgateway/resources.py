"""What the package ships beside its code, located through importlib.resources.

The default personas, the Gherkin catalogue, its step modules and the pytest configuration that runs
them are package data: a wheel installed with `pip install mockgateway[harness]` has them, no
checkout needed. They are read as files on disk (pytest collects the catalogue by path, SQLite and
YAML loaders take paths), so a zipped install (zipimport) is refused with the reason.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_path(package: str, *parts: str) -> Path:
    """The file or folder `parts` inside `package`, as a real path on disk."""
    found = files(package).joinpath(*parts)
    if not isinstance(found, Path):
        raise RuntimeError(
            f"{package} is installed in a form whose data is not on disk ({type(found).__name__}): "
            "install mockgateway with pip into a normal (unzipped) environment"
        )
    return found


def default_personas() -> Path:
    """The folder of shipped personas (`serve` loads them unless --fixtures is given)."""
    return package_path("mockgateway", "data", "personas")


def catalogue_features() -> Path:
    """The Gherkin catalogue: features/<area>/*.feature, README.md, retired-ids.txt."""
    return package_path("mockgateway.harness", "features")


def catalogue_suite() -> Path:
    """The pytest module that runs the catalogue (with its conftest and pytest.ini)."""
    return package_path("mockgateway.harness.suite")
