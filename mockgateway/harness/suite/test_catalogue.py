"""Runs every scenario of the catalogue (Japanese Gherkin, shipped in the package) against the
client under test: the reference client by default, a vendor's with --mg-adapter.
`mockgateway-harness run --features DIR` runs another catalogue folder (MOCKGATEWAY_FEATURES)."""

import os

from pytest_bdd import scenarios

from mockgateway.resources import catalogue_features

scenarios(os.environ.get("MOCKGATEWAY_FEATURES") or str(catalogue_features()))
