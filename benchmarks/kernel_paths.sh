#!/usr/bin/env bash
# Cross-CPU drift, measured on one machine: run the smoke profile (every recipe, a few steps)
# once per CPU kernel path, forcing the paths another processor would take:
#   default    what this CPU picks (ATen's widest vector ISA, MKL's own branch)
#   aten-avx2  ATen's vectorised kernels capped at AVX2 (ATEN_CPU_CAPABILITY=avx2)
#   mkl-avx2   MKL's conditional-numerical-reproducibility branch AVX2 (MKL_CBWR=AVX2)
#   avx2       all three capped at AVX2, oneDNN too (ONEDNN_MAX_CPU_ISA=AVX2): an AVX2-only CPU
# Each variant's tables go to results/kernel-paths/<variant>/ and its wall time to wall_s.csv;
# tests/notebooks/test_smoke_numbers.py checks that the smoke tolerance covers the drift.
# Usage: bash benchmarks/kernel_paths.sh [--notebooks "01_data 02_training ..."] [VARIANT ...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
notebooks="02_training"
if [ "${1:-}" = "--notebooks" ]; then notebooks=$2; shift 2; fi
out=results/kernel-paths
variants=("$@"); [ ${#variants[@]} -gt 0 ] || variants=(default aten-avx2 mkl-avx2 avx2)
for v in "${variants[@]}"; do
  case $v in
    default)   envs=() ;;
    aten-avx2) envs=(ATEN_CPU_CAPABILITY=avx2) ;;
    mkl-avx2)  envs=(MKL_CBWR=AVX2) ;;
    avx2)      envs=(ATEN_CPU_CAPABILITY=avx2 MKL_CBWR=AVX2 ONEDNN_MAX_CPU_ISA=AVX2) ;;
    *) echo "unknown variant $v" >&2; exit 2 ;;
  esac
  rm -rf models/smoke results/smoke
  start=$(date +%s)
  # shellcheck disable=SC2086
  env "${envs[@]}" "$PY" -m gatelib.pipeline --profile smoke --only $notebooks --out "/tmp/kernel-paths/$v"
  end=$(date +%s)
  mkdir -p "$out/$v"
  for table in scores.csv truncation.csv retrieval.csv; do
    [ ! -f "results/smoke/$table" ] || cp "results/smoke/$table" "$out/$v/"
  done
  echo "$v,$((end - start)),$notebooks,${envs[*]:-}" >> "$out/wall_s.csv"
done
