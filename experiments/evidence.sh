#!/usr/bin/env bash
# Reference evidence for one dataset: tune learning rates (seed 100), then the evidence preset (5 seeds),
# then the claims report into results/reference/DATASET. Re-running the same command resumes: finished
# jobs are skipped, interrupted ones continue from their last epoch.
#
# usage: experiments/evidence.sh DATASET [OVERRIDE ...]
#   experiments/evidence.sh fashion_mnist
#   experiments/evidence.sh mnist data.path=/path/to/mnist
#   PRESET=evidence_quick experiments/evidence.sh fashion_mnist
source "$(dirname "$0")/common.sh"
dataset_argument "$@"
shift
preset=${PRESET:-evidence}
root=outputs/reference/$dataset
"$python" -m inductive.run -m +experiment=evidence_tuning "data=$dataset" "hydra.sweep.dir=$root/evidence_tuning" "$@"
"$python" -m inductive.tune "$root/evidence_tuning"
"$python" -m inductive.run -m "+experiment=$preset" "data=$dataset" "hydra.sweep.dir=$root/$preset" "$@"
"$python" -m inductive.report "$root/$preset" "out=results/reference/$dataset" "${note[@]}"
