#!/usr/bin/env bash
# Installs the system packages the card tests need: pcscd + vsmartcard-vpcd (virtual reader
# driver), libpcsclite-dev + swig (so `pip install pyscard` can build from the sdist), and
# opensc / pcsc-tools (independent cross-checks). Idempotent: the apt step is skipped when
# every package is already installed. Must run as root (apt-get).
set -euo pipefail

PACKAGES=(pcscd libpcsclite-dev libpcsclite1 swig vsmartcard-vpcd opensc pcsc-tools)

if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup-pcsc.sh: must run as root (it calls apt-get)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup-pcsc.sh: all packages already installed (${PACKAGES[*]})"
else
    echo "setup-pcsc.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # Install the full list so versions stay consistent; already-present ones are no-ops.
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
fi

# The packages' postinst may enable a systemd socket; nothing here starts pcscd: the test
# harness runs its own private instance (mockgateway.card.pcscd).
driver=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
if [[ ! -e "$driver" ]]; then
    echo "setup-pcsc.sh: vpcd driver not found at $driver" >&2
    exit 1
fi
command -v pcscd >/dev/null || { echo "setup-pcsc.sh: pcscd not on PATH" >&2; exit 1; }
echo "setup-pcsc.sh: ok (pcscd $(pcscd --version 2>&1 | head -n1 | awk '{print $NF}' | sed 's/\.$//'), vpcd driver present)"
