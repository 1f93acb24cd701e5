#!/usr/bin/env bash
# Run experiment presets one after another into one output root, then build one claims report.
#
# usage: experiments/run_presets.sh OUT_ROOT REPORT_DIR PRESET[,PRESET...] [OVERRIDE ...]
#   experiments/run_presets.sh outputs/fmnist outputs/fmnist/report weight_sharing_quick,pooling_quick
#   experiments/run_presets.sh outputs/cifar10 outputs/cifar10/report weight_sharing data=cifar10 data.path=DIR
# Each preset is a sweep (configs/experiment/PRESET.yaml) under OUT_ROOT/sweeps/; OVERRIDEs go to
# every sweep. PYTHON picks the interpreter (default: python).
set -euo pipefail

if [[ $# -lt 3 ]]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
out_root=$1 report_dir=$2 presets=$3
shift 3
python=${PYTHON:-python}

sweeps=()
for preset in ${presets//,/ }; do
  if [[ ! -f configs/experiment/$preset.yaml ]]; then
    echo "no preset configs/experiment/$preset.yaml (run from the repository root)" >&2
    exit 2
  fi
  start=$(date +%s)
  "$python" -m inductive.run -m "+experiment=$preset" "output_root=$out_root" "$@"
  sweeps+=("$(ls -dt "$out_root"/sweeps/*_"$preset" | head -n 1)")
  echo "preset $preset took $(( $(date +%s) - start )) s: ${sweeps[-1]}"
done
"$python" -m inductive.report "${sweeps[@]}" "out=$report_dir"
