# What the experiments/*.sh scripts share; sourced by them, never run. After
#   source "$(dirname "$0")/common.sh"; dataset_argument "$@"; shift
# `dataset` is the first argument, `python` the Python to run ($PYTHON, or python), and `note` the report
# option for the dataset's note (note=experiments/notes/DATASET.md where there is one: what the runs cannot
# say about their data, e.g. CIFAR-10's JPEG-decoded test images).
set -euo pipefail
script=$(realpath "$0")
cd "$(dirname "$script")/.."  # the repository root: results/, outputs/ and experiments/notes/ are read from there

dataset_argument() {
  if [[ $# -lt 1 ]]; then
    awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$script" >&2  # the calling script's header: its usage
    exit 2
  fi
  dataset=$1
  python=${PYTHON:-python}
  note=()
  if [[ -f experiments/notes/$dataset.md ]]; then note=("note=experiments/notes/$dataset.md"); fi
}

# kept_seeds PRESET OUT SEED... [-- OVERRIDE ...]: PRESET on `dataset`, one sweep per seed (so that whatever a
# session finishes is whole seeds), each finished seed's tables (no verdict) kept in OUT/seeds/seedS by
# `python -m inductive.tables`, to be committed. A seed kept there is not run again, so a look longer than one
# session goes on from its last whole seed on a machine whose outputs/ are gone; within a seed, a re-run resumes.
# Sets `kept` to the seeds' folders, for the report. The overrides may say where the data are and how jobs run,
# never what is trained: a kept seed is permanent, so a trial with fewer epochs must not pass for one.
kept_seeds() {
  local preset=$1 out=$2 seed override
  shift 2
  local seeds=()
  while [[ $# -gt 0 && $1 != -- ]]; do seeds+=("$1"); shift; done
  if [[ $# -gt 0 ]]; then shift; fi
  for override in "$@"; do
    case $override in
      data.path=* | data.tfds.* | data.cache_dir=* | hydra/launcher=* | hydra.launcher.* | trainer.verbose=* | \
        trainer.threads=*) ;;
      *) echo "error: $override: a reference look takes only overrides of where the data are and how jobs run" \
           "(data.path=, data.tfds.*, data.cache_dir=, hydra/launcher=, hydra.launcher.*, trainer.verbose=," \
           "trainer.threads=); its design is configs/experiment/$preset.yaml" >&2
         exit 2 ;;
    esac
  done
  kept=()
  for seed in "${seeds[@]}"; do
    if [[ ! -f $out/seeds/seed$seed/runs.csv ]]; then
      "$python" -m inductive.run -m "+experiment=$preset" "data=$dataset" "seed=$seed" \
        "hydra.sweep.dir=outputs/reference/$dataset/$preset/seed$seed" "$@"
      "$python" -m inductive.tables "outputs/reference/$dataset/$preset/seed$seed" "out=$out/seeds/seed$seed"
    fi
    kept+=("$out/seeds/seed$seed")
  done
}
