#!/usr/bin/env bash
# The pre-registered replication for one dataset (configs/experiment/evidence_replication.yaml): the evidence
# design on seeds 10-29, one sweep per seed, then one report over the twenty seeds alone at alpha 0.05 into
# results/reference/replication/DATASET. The report is written only once every seed has run: the replication is
# read whole or not at all. Each finished seed's tables are kept, unread, in replication/DATASET/seeds/seedS
# (commit them): a seed kept there is not run again, so the same command goes on from the last whole seed in a
# later session.
#
# usage: experiments/replication.sh DATASET [OVERRIDE ...]
#   experiments/replication.sh mnist data.path=/path/to/mnist
source "$(dirname "$0")/common.sh"
dataset_argument "$@"
shift
out=results/reference/replication/$dataset
kept_seeds evidence_replication "$out" $(seq 10 29) -- "$@"
"$python" -m inductive.report "${kept[@]}" alpha=0.05 "out=$out" "${note[@]}"
