#!/usr/bin/env bash
# CI wheel check: build mixassist's wheel, install it into a fresh virtual environment outside the
# checkout, and run `mixassist mix` there on a generated song file and on a stem folder, asserting
# that the shipped analysis network and the bundled separator were used (so the wheel carries its
# package data, mixassist/models/).
#
# The fresh environment gets the wheel alone (--no-deps); its dependencies (torch, ...) resolve
# from .venv through a .pth file that adds .venv's site-packages to its path. A directory added by
# a .pth is not itself scanned for .pth files, so .venv's editable install of the checkout stays
# inactive there: the check fails unless mixassist is imported from the fresh environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PY:-$ROOT/.venv/bin/python}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mixassist-wheel-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "wheel check: building the wheel"
# from a copy of the files git tracks (or would), so no build output of the checkout leaks in
mkdir "$WORK/src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"; done | tar -c --null -T - | tar -x -C "$WORK/src"
else  # not a git checkout: everything but the environment and build output
  tar -c --exclude=./.venv --exclude=./build --exclude='*.egg-info' . | tar -x -C "$WORK/src"
fi
"$PY" -m pip wheel -q --no-deps -w "$WORK/dist" "$WORK/src"
WHEEL=$(ls "$WORK"/dist/mixassist-*.whl)
"$PY" - "$WHEEL" <<'PYEOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for want in ("mixassist/models/mixassist-analysis.safetensors",
             "mixassist/models/mixassist-compact.safetensors", "mixassist/models/models.json"):
    assert want in names, f"the wheel lacks {want}"
PYEOF

echo "wheel check: installing it into a fresh environment in $WORK"
"$PY" -m venv --without-pip "$WORK/venv"
VPY="$WORK/venv/bin/python"
SITE=$("$VPY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
DEPS=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$PY" -m pip --python "$VPY" install -q --no-deps --no-index "$WHEEL" 2>/dev/null \
  || "$PY" -m pip install -q --no-deps --no-index --target "$SITE" "$WHEEL"
echo "$DEPS" > "$SITE/zz-mixassist-deps.pth"
mkdir -p "$WORK/run"
cd "$WORK/run"  # outside the checkout: nothing of it is importable from here
"$VPY" - "$WORK/venv" <<'PYEOF'
import sys
import mixassist
from mixassist.analysis.analyze import DEFAULT_MODEL
assert mixassist.__file__.startswith(sys.argv[1]), f"mixassist imported from {mixassist.__file__}"
assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.is_relative_to(sys.argv[1]), DEFAULT_MODEL
print(f"wheel check: mixassist {mixassist.__version__} from {mixassist.__file__}")
PYEOF

echo "wheel check: generating a song and its stems"
"$VPY" - <<'PYEOF'
from pathlib import Path
import numpy as np
from mixassist import save_audio
from mixassist.analysis.synthetic import synthetic_song
song = synthetic_song(tempo_bpm=110.0, key="Eb major", sr=44100, seed=3,
                      form=(("intro", 2), ("verse", 4), ("chorus", 4)))
Path("stems").mkdir()
for name, audio in song.stems.items():
    save_audio(f"stems/{name}.wav", audio, song.sr)
save_audio("song.wav", np.sum(list(song.stems.values()), axis=0), song.sr)
PYEOF

export MIXASSIST_OFFLINE=1 HF_HUB_OFFLINE=1 MIXASSIST_CACHE="$WORK/cache"
export HF_HOME="$WORK/hf"  # an empty Hugging Face cache: the bundled separator is the default
echo "wheel check: mixassist mix song.wav"
"$WORK/venv/bin/mixassist" mix song.wav -o out
echo "wheel check: mixassist mix stems/"
"$WORK/venv/bin/mixassist" mix stems -o out
"$VPY" - <<'PYEOF'
import json
song = json.load(open("out/song/analysis.json"))
stems = json.load(open("out/stems/analysis.json"))
for name, a in (("song.wav", song), ("stems/", stems)):
    assert a["sources"]["instrument"].startswith("network"), (name, a["sources"])
    assert a["sources"]["target_level"] == "network", (name, a["sources"])
    assert all(s["source"] == "network" for s in a["stems"]), name
assert song["sources"]["separation"] == "mixassist-compact (bundled)", song["sources"]
assert stems["sources"]["separation"] == "none", stems["sources"]
for folder in ("out/song", "out/stems"):
    for f in ("mix.wav", "plan.json", "report.html"):
        open(f"{folder}/{f}", "rb").close()
print("wheel check: ok (analysis network and bundled separator used from the installed wheel)")
PYEOF
