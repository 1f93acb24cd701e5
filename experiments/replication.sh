#!/usr/bin/env bash
# The pre-registered replication for one dataset (configs/experiment/evidence_replication.yaml): the evidence
# design on seeds 10-29, one sweep per seed (so that whatever a session finishes is whole seeds), then one
# report over the twenty seeds alone at alpha 0.05 into results/reference/replication/DATASET. The report is
# written only once every seed's sweep has finished: the replication is read whole or not at all.
# Re-running the same command resumes: finished jobs are skipped, interrupted ones continue.
#
# usage: experiments/replication.sh DATASET [OVERRIDE ...]
#   experiments/replication.sh mnist data.path=/path/to/mnist
source "$(dirname "$0")/common.sh"
dataset_argument "$@"
shift
root=outputs/reference/$dataset/evidence_replication
sweeps=()
for seed in $(seq 10 29); do
  "$python" -m inductive.run -m +experiment=evidence_replication "data=$dataset" "seed=$seed" \
    "hydra.sweep.dir=$root/seed$seed" "$@"
  sweeps+=("$root/seed$seed")
done
"$python" -m inductive.report "${sweeps[@]}" alpha=0.05 "out=results/reference/replication/$dataset" "${note[@]}"
