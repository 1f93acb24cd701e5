"""`python -m inductive.tables SWEEP_DIR [SWEEP_DIR ...] out=DIR`: the runs, epochs, layers and shifts tables of
the runs below the sweeps, written to DIR as a report's tables folder, with no claim judged (`evidence.tables.export`).

A report reads such a folder in place of its sweeps. A study (`python -m inductive.study run`) keeps each finished
job this way, so that a look that takes more than one session is carried by the committed tables and read only
when whole. Only finished sweeps are kept, and DIR must be
new: bad input exits 2 before anything is written. No TensorFlow is imported.
"""

import logging
import sys
from pathlib import Path

from inductive.evidence.tables import ReportError, export

USAGE = "usage: python -m inductive.tables SWEEP_DIR [SWEEP_DIR ...] out=DIR"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    roots = [Path(a) for a in argv if "=" not in a]
    options = [a for a in argv if "=" in a]
    try:
        if len(options) != 1 or not options[0].startswith("out=") or options[0] == "out=":
            raise ReportError(f"expected one out=DIR and no other option, got {options or 'no out=DIR'}. {USAGE}")
        if not roots:
            raise ReportError(f"no sweep folder given. {USAGE}")
        written = export(roots, Path(options[0].removeprefix("out=")))
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("tables: " + ", ".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
