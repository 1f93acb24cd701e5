#!/usr/bin/env bash
# The pre-registered second look for one dataset (configs/experiment/evidence_second_look.yaml): seeds 5-9 of
# the evidence design, then one report over seeds 0-9 at alpha 0.025 into results/reference/ten_seeds/DATASET.
# The first look is read from the tables its report saved (results/reference/DATASET), so its run folders
# need not exist any more. Re-running the same command resumes: finished jobs are skipped.
#
# usage: experiments/second_look.sh DATASET [OVERRIDE ...]
#   experiments/second_look.sh mnist data.path=/path/to/mnist
source "$(dirname "$0")/common.sh"
dataset_argument "$@"
shift
first=results/reference/$dataset
root=outputs/reference/$dataset
if [[ ! -f $first/runs.csv ]]; then
  echo "error: $first/runs.csv: no first look for $dataset; run experiments/evidence.sh $dataset first" >&2
  exit 2
fi
"$python" -m inductive.run -m +experiment=evidence_second_look "data=$dataset" \
  "hydra.sweep.dir=$root/evidence_second_look" "$@"
"$python" -m inductive.report "$first" "$root/evidence_second_look" alpha=0.025 \
  "out=results/reference/ten_seeds/$dataset" "${note[@]}"
