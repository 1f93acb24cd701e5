#!/usr/bin/env bash
# The pre-registered replication for one dataset (configs/experiment/evidence_replication.yaml): the evidence
# design on seeds 10-29, one sweep per seed (so that whatever a session finishes is whole seeds), then one
# report over the twenty seeds alone at alpha 0.05 into results/reference/replication/DATASET. The report is
# written only once every seed's sweep has finished: the replication is read whole or not at all.
# Re-running the same command resumes: finished jobs are skipped, interrupted ones continue.
#
# usage: experiments/replication.sh DATASET [OVERRIDE ...]
#   experiments/replication.sh mnist data.path=/path/to/mnist
set -euo pipefail

if [[ $# -lt 1 ]]; then
  sed -n '2,9p' "$0" >&2
  exit 2
fi
dataset=$1
shift
python=${PYTHON:-python}
root=outputs/reference/$dataset/evidence_replication
sweeps=()
for seed in $(seq 10 29); do
  "$python" -m inductive.run -m +experiment=evidence_replication "data=$dataset" "seed=$seed" \
    "hydra.sweep.dir=$root/seed$seed" "$@"
  sweeps+=("$root/seed$seed")
done
note=()  # what the runs cannot say about their data (e.g. CIFAR-10's JPEG-decoded test images)
[[ -f experiments/notes/$dataset.md ]] && note=("note=experiments/notes/$dataset.md")
"$python" -m inductive.report "${sweeps[@]}" alpha=0.05 "out=results/reference/replication/$dataset" "${note[@]}"
