#!/usr/bin/env bash
# Set up mixassist in .venv/ at the repository root: system packages (when missing), then the package
# (editable) with every extra, pinned by constraints-ci.txt. Safe to rerun; skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
APT_PACKAGES=(libsndfile1 libfluidsynth3 fluid-soundfont-gm timgm6mb-soundfont avldrums.lv2-soundfont
              opl3-soundfont csound-soundfont hydrogen-drumkits sonic-pi-samples freepats
              freedoom planetblupi-music-midi chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
    echo "setup: could not install ${missing[*]} with apt; install them by hand (data-generator tests need them)" >&2
    exit 1
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# --no-cache-dir: the CUDA wheels of torch are ~4 GB; caching them would need that much disk again.
.venv/bin/python -m pip install -q --no-cache-dir --upgrade pip
.venv/bin/python -m pip install -q --no-cache-dir -c constraints-ci.txt -e ".[server,ray,data,dev]"
echo "setup: done ($(.venv/bin/mixassist --version))"
