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

from inductive.arguments import split
from inductive.errors import ConfigError
from inductive.evidence.tables import export

USAGE = "usage: python -m inductive.tables SWEEP_DIR [SWEEP_DIR ...] out=DIR"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        folders, given = split(argv, {"out": "DIR"}, USAGE)
        if "out" not in given:
            raise ConfigError(f"no out=DIR given: name the new folder the tables go to. {USAGE}")
        if not folders:
            raise ConfigError(f"no sweep folder given. {USAGE}")
        written = export([Path(f) for f in folders], Path(given["out"]))
    except ConfigError as err:  # ReportError is one
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("tables: " + ", ".join(map(str, written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
