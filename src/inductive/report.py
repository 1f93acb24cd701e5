"""`python -m inductive.report SWEEP_DIR ... [out=DIR]`: see `inductive.evidence.report`."""

from inductive.evidence.report import main

if __name__ == "__main__":
    raise SystemExit(main())
