#!/usr/bin/env bash
# The pre-registered replication for one dataset (configs/experiment/evidence_replication.yaml): the evidence
# design on seeds 10-29, one sweep per seed, then one report over the twenty seeds alone at alpha 0.05 into
# results/reference/replication/DATASET. The report is written only once every seed has run: the replication is
# read whole or not at all.
#
# Each finished seed's tables (runs, epochs, layers, shifts; no verdict) are kept in
# results/reference/replication/DATASET/seeds/seedS by `python -m inductive.tables`, to be committed: a seed kept
# there is not run again, so a replication longer than one session goes on from its last whole seed on a machine
# whose outputs/ are gone. Within a seed, re-running resumes: finished jobs are skipped, interrupted ones continue.
#
# usage: experiments/replication.sh DATASET [OVERRIDE ...]
#   experiments/replication.sh mnist data.path=/path/to/mnist
source "$(dirname "$0")/common.sh"
dataset_argument "$@"
shift
root=outputs/reference/$dataset/evidence_replication
kept=results/reference/replication/$dataset/seeds
seeds=()
for seed in $(seq 10 29); do
  if [[ ! -f $kept/seed$seed/runs.csv ]]; then
    "$python" -m inductive.run -m +experiment=evidence_replication "data=$dataset" "seed=$seed" \
      "hydra.sweep.dir=$root/seed$seed" "$@"
    "$python" -m inductive.tables "$root/seed$seed" "out=$kept/seed$seed"
  fi
  seeds+=("$kept/seed$seed")
done
"$python" -m inductive.report "${seeds[@]}" alpha=0.05 "out=results/reference/replication/$dataset" "${note[@]}"
