#!/usr/bin/env bash
# Cross-CPU drift, measured on one machine: train and score the smoke profile (every recipe, a
# few steps) once per CPU kernel path, forcing the paths another processor would take:
#   default    what this CPU picks (ATen's widest vector ISA, MKL's own branch)
#   aten-avx2  ATen's vectorised kernels capped at AVX2 (ATEN_CPU_CAPABILITY=avx2)
#   mkl-avx2   MKL's conditional-numerical-reproducibility branch AVX2 (MKL_CBWR=AVX2)
#   avx2       both, and oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2): an AVX2-only CPU
# Each variant's scores go to results/kernel-paths/<variant>.csv with its wall time;
# benchmarks/kernel_paths_report.py compares them. Usage: bash benchmarks/kernel_paths.sh [VARIANT ...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
out=results/kernel-paths
mkdir -p "$out"
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
  env "${envs[@]}" "$PY" -m gatelib.pipeline --profile smoke --only 02_training --out "/tmp/kernel-paths/$v"
  end=$(date +%s)
  cp results/smoke/scores.csv "$out/$v.csv"
  echo "$v,$((end - start)),${envs[*]:-}" >> "$out/wall_s.csv"
done
