#!/usr/bin/env bash
# Control 9 for one dataset (configs/experiment/evidence_matched.yaml, pre-registered): the evidence protocol with
# dense, local, conv_flatten and gap sized to 150,000 parameters, seeds 0-4, one sweep per seed, then one report
# at alpha 0.05 into results/reference/matched/DATASET, written once every seed has run. Each finished seed's tables
# are kept in matched/DATASET/seeds/seedS (commit them): the same command goes on from the last whole seed.
#
# usage: experiments/matched.sh DATASET [OVERRIDE ...]
#   experiments/matched.sh mnist data.path=/path/to/mnist
source "$(dirname "$0")/common.sh"
dataset_argument "$@"
shift
out=results/reference/matched/$dataset
kept_seeds evidence_matched "$out" 0 1 2 3 4 -- "$@"
"$python" -m inductive.report "${kept[@]}" alpha=0.05 "out=$out" "${note[@]}"
