"""The pytest suite that runs the catalogue: `conftest.py` wires the step modules in,
`test_catalogue.py` collects every scenario, `pytest.ini` is the configuration an installed
`mockgateway-harness run` uses (a checkout's own run uses pyproject.toml's)."""
