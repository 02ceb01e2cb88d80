#!/usr/bin/env bash
# Train the compact separator on a GPU machine that has python3 with torch but nothing else
# (the device tool's machines). Carried: .whl/ (soundfile, cffi, pycparser, julius, demucs wheels
# for that python) and a pack made here by `python -m mixassist.separation.pack`.
#   usage: scripts/train_separator_gpu.sh PACK RESULTS MINUTES [extra train args...]
# Trains for MINUTES (cosine decay over the same time), then copies the run's checkpoints, log
# and config to RESULTS.
set -euo pipefail
pack=$1 results=$2 minutes=$3
shift 3
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi -L
python3 -c "import torch, demucs, soundfile; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
run=/tmp/sep_run
status=0
timeout -s TERM "$(python3 -c "print(int($minutes * 60 + 90))")" \
  python3 -m mixassist.separation.train "$run" --data "$pack" --device cuda --threads 8 \
    --max-minutes "$minutes" --decay-minutes "$minutes" "$@" || status=$?
mkdir -p "$results"
cp "$run"/best.safetensors "$run"/last.safetensors "$run"/train.log "$run"/config.json "$results"/ || true
exit $status
