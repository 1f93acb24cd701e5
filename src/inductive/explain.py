"""`python -m inductive.explain`: see `inductive.lecture.explain`."""

from inductive.lecture.explain import main

if __name__ == "__main__":
    raise SystemExit(main())
