# What the experiments/*.sh scripts share; sourced by them, never run. After
#   source "$(dirname "$0")/common.sh"; dataset_argument "$@"; shift
# `dataset` is the first argument, `python` the Python to run ($PYTHON, or python), and `note` the report
# option for the dataset's note (note=experiments/notes/DATASET.md where there is one: what the runs cannot
# say about their data, e.g. CIFAR-10's JPEG-decoded test images).
set -euo pipefail

dataset_argument() {
  if [[ $# -lt 1 ]]; then
    awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0" >&2  # the calling script's header: its usage
    exit 2
  fi
  dataset=$1
  python=${PYTHON:-python}
  note=()
  if [[ -f experiments/notes/$dataset.md ]]; then note=("note=experiments/notes/$dataset.md"); fi
}
