"""The catalogue's step definitions (pytest-bdd), grouped by domain concept, with the `world`
fixture they share. Shipped in the package so an installed harness runs the catalogue without a
checkout; mockgateway.harness.suite wires them in."""
