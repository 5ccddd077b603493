#!/usr/bin/env bash
# The GPU job: the `grid` profile's training notebook and the training-throughput benchmark on a
# machine with a GPU and no internet (how book/grid was produced). It needs `.device/`, made here
# by `make device-bundle`: the carried wheels (packages the GPU image lacks), the Arabic+English
# fp16 base model (xz) and the commit the bundle was made at.
#
#   bash benchmarks/gpu_job.sh OUT_DIR SECONDS [breakdown] [throughput] [compiled] [grid[:CONFIGS[:SEEDS]]] ...
#
# Phases run in the order given within SECONDS (each under `timeout`); what they produce is copied
# to OUT_DIR even when a phase runs out of time (the notebook is saved after every cell). `grid`
# trains the whole profile; `grid:mrl-mined,mrl-distill` only those configs, `grid:hybrid-paper:2`
# only seed 2 of it (the scores of other runs, committed in results/grid, are kept). Finished
# training runs are reloaded, not retrained, so a second call on the same machine continues.
set -uo pipefail
out=${1:?usage: gpu_job.sh OUT_DIR SECONDS [throughput] [compiled] [grid]}; budget=${2:?seconds}; shift 2
phases=${*:-breakdown throughput grid}
mkdir -p "$out"
left() { echo $(( budget - SECONDS - 25 )); }  # 25 s kept for copying the results back

if [ ! -d /tmp/site/gatelib_carried ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .device/whl/*.whl || exit 3
  mkdir -p /tmp/site/gatelib_carried
fi
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export GATELIB_CACHE_DIR=/tmp/gatelib-cache GATE_COMMIT=$(cat .device/COMMIT)
if [ ! -d "$GATELIB_CACHE_DIR" ]; then
  mkdir -p "$GATELIB_CACHE_DIR" && tar -xJf .device/e5-ar-en.tar.xz -C "$GATELIB_CACHE_DIR" || exit 3
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/card.txt"
python3 - <<'PY' || exit 4  # fail fast: every import the notebook needs, and the model on the GPU
import datasets, myst_nb, pandas, papermill, pyarrow, sentence_transformers, torch, transformers
import gatelib.captions, gatelib.reporting, gatelib.training
from gatelib.models import BUNDLED_E5_AR_EN, load_base_model
print("torch", torch.__version__, "| transformers", transformers.__version__, "| sentence-transformers",
      sentence_transformers.__version__, "| datasets", datasets.__version__, "| pandas", pandas.__version__,
      "| pyarrow", pyarrow.__version__)
print("model on", torch.cuda.get_device_name(0), load_base_model(BUNDLED_E5_AR_EN, device="cuda").encode(["اختبار"]).shape)
PY
echo "setup done at ${SECONDS}s"

part=0
for phase in $phases; do
  case $phase in
    grid*)  # results/grid is also kept under models/ (ignored), so a second call finds it
      IFS=: read -r _ configs seeds <<< "$phase"
      part=$((part + 1)); args=()
      [ -n "$configs" ] && args+=(--configs ${configs//,/ })
      [ -n "$seeds" ] && args+=(--seeds ${seeds//,/ })
      mkdir -p results/grid models/grid-results
      cp models/grid-results/* results/grid/ 2>/dev/null  # a previous call's scores (newer than the tree's)
      timeout --kill-after=10 "$(left)" python3 -m gatelib.pipeline --profile grid --only 02_training \
        "${args[@]}" --out "$out/grid-$part"
      echo "$phase exit $? at ${SECONDS}s"
      pkill -f ipykernel_launcher  # the kernel runs in its own session: a timeout does not reach it
      cp results/grid/scores.csv results/grid/predictions.csv.gz models/grid-results/ 2>/dev/null
      cp results/grid/scores.csv results/grid/predictions.csv.gz "$out/" 2>/dev/null ;;
    breakdown)  # at most 60 s: host vs device time of a batch-64 MRL step (torch.profiler)
      limit=$(left); [ "$limit" -gt 60 ] && limit=60
      timeout --kill-after=10 "$limit" python3 benchmarks/step_breakdown.py --profile grid --config mrl \
        --batch-size 64 --out "$out"
      echo "breakdown exit $? at ${SECONDS}s" ;;
    throughput)  # at most 60 s: with gatelib's GPU speed-ups (the H200 numbers without are in results/grid)
      limit=$(left); [ "$limit" -gt 60 ] && limit=60
      timeout --kill-after=10 "$limit" python3 benchmarks/training_throughput.py --profile grid --config mrl --gpu \
        --batch-sizes 64 256 512 --steps 25 --speedups on --out "$out/throughput.csv"
      echo "throughput exit $? at ${SECONDS}s" ;;
    compiled)  # at most 120 s: the same with the encoder compiled (compilation falls in the warm-up)
      limit=$(left); [ "$limit" -gt 120 ] && limit=120
      timeout --kill-after=10 "$limit" python3 benchmarks/training_throughput.py --profile grid --config mrl --gpu \
        --batch-sizes 64 256 --steps 30 --speedups on --compile --out "$out/throughput-compiled.csv"
      echo "compiled exit $? at ${SECONDS}s" ;;
  esac
done
