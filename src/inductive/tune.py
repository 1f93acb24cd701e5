"""`python -m inductive.tune SWEEP_DIR ... [out=FILE]`: see `inductive.evidence.tuning`."""

from inductive.evidence.tuning import main

if __name__ == "__main__":
    raise SystemExit(main())
