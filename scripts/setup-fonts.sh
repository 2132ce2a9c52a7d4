#!/usr/bin/env bash
# The 医療情報 PDF (docs/medical.md): a Japanese TrueType font from Debian's packages (IPAex
# Gothic) for rendering, and poppler-utils (pdftoppm, pdftotext) to turn a page into an image
# when checking the layout by eye. Run as root by scripts/setup.sh; idempotent.
set -euo pipefail

need=()
[[ -e /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ]] || need+=(fonts-ipaexfont-gothic)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if ((${#need[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup-fonts.sh: IPAex Gothic and poppler-utils present"
