#!/usr/bin/env bash
# Debian's chromium (headless: the certification report's screenshot test in
# tests/harness/test_report.py, and the web console's browser tests in tests/console/, which drive
# it through Playwright for Python with executable_path — Playwright never downloads a browser here)
# and a CJK font so the Japanese pages render. Run as root by scripts/setup.sh; idempotent: apt runs
# only when something is missing.
set -euo pipefail

if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup-chromium.sh: must run as root (it calls apt-get); the report and console browser tests skip without chromium" >&2
    exit 0
fi

need=()
command -v chromium >/dev/null || need+=(chromium)
[[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]] || need+=(fonts-noto-cjk)
if ((${#need[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup-chromium.sh: $(chromium --version 2>/dev/null || echo 'chromium missing'), Noto Sans CJK present"
