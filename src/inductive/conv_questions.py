"""`python -m inductive.conv_questions`: see `inductive.lecture.conv_questions`."""

from inductive.lecture.conv_questions import main

if __name__ == "__main__":
    raise SystemExit(main())
