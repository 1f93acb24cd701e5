"""`python -m inductive.explorer`: see `inductive.lecture.explorer`."""

from inductive.lecture.explorer import main

if __name__ == "__main__":
    raise SystemExit(main())
