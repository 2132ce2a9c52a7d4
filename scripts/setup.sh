#!/usr/bin/env bash
# Sets up everything mockgateway needs on a fresh machine of this kind (Debian 12, Python 3.11,
# root): system packages (pcscd + vsmartcard-vpcd for the virtual card reader, build deps for
# pyscard), then a virtual environment in .venv with the package and its test extras.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "$(id -u)" -eq 0 ]]; then
    bash scripts/setup-pcsc.sh
    for extra in scripts/setup-*.sh; do
        [[ "$extra" == scripts/setup-pcsc.sh ]] && continue
        bash "$extra"
    done
else
    echo "setup.sh: not root: skipping system packages (card-reader tests will skip with the reason)" >&2
fi

PYTHON="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
extras="test,load"
if [[ -e /usr/include/PCSC/winscard.h ]] && command -v swig >/dev/null; then
    extras="test,load,card"  # pyscard builds from its sdist against libpcsclite
fi
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
echo "setup.sh: ready (.venv with extras: ${extras})"
