#!/usr/bin/env bash
# Rebuild results/reference/DATASET: the three quick presets on one dataset, then its claims report.
#
# usage: experiments/reference.sh DATASET [OVERRIDE ...]
#   experiments/reference.sh fashion_mnist
#   experiments/reference.sh cifar10 data.path=/path/to/cifar-10-batches-py
# Runs land in outputs/reference/DATASET (git-ignored); tables, figures and report.md in
# results/reference/DATASET. Cost: about half an hour per dataset on 2 CPU cores.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,8p' "$0" >&2
  exit 2
fi
dataset=$1
shift
exec "$(dirname "$0")/run_presets.sh" "outputs/reference/$dataset" "results/reference/$dataset" \
  weight_sharing_quick,pooling_quick,data_efficiency_quick "data=$dataset" "$@"
