"""TensorFlow's C++ log lines, kept off the terminal unless asked for (`INDUCTIVE_TF_LOGS=1`).

`TF_CPP_MIN_LOG_LEVEL=3` silences TensorFlow's C++ logging below FATAL for the whole process once absl
is set up: the `cuInit` error on machines without a GPU and the long `NodeDef mentions attribute
use_unbounded_threadpool` lines at the first fit. (A C++ error that matters surfaces as a Python
exception with its message, which is recorded as usual.) The lines written before absl starts (the
oneDNN and CUDA-driver notices, the CPU-instructions note, each block twice) ignore that setting, so the
import runs with file descriptor 2 caught and those known notices dropped; every other line, FATAL ones
included, is passed on when the import returns or raises. A process killed during the import (an
abort) loses what was caught: run with INDUCTIVE_TF_LOGS=1 to see it. Every entry point that loads
TensorFlow imports it through `start_up_lines()`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

ASK = "INDUCTIVE_TF_LOGS"  # set to 1: TensorFlow logs as it writes them
NOTICES = (b"All log messages before absl::InitializeLog() is called", b" port.cc:", b" cudart_stub.cc:",
           b" cpu_feature_guard.cc:", b"To enable the following instructions", b" cuda_platform.cc:",
           b" node_def_util.cc:")


def wanted() -> bool:
    return os.environ.get(ASK, "") not in ("", "0")


if not wanted():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def is_notice(line: bytes) -> bool:
    """A known start-up notice; never a FATAL line (absl writes those as F<date> ...)."""
    return not line.startswith(b"F") and any(notice in line for notice in NOTICES)


@contextmanager
def start_up_lines() -> Iterator[None]:
    """Catch what is written to fd 2 inside the block; on leaving, write back all but TensorFlow's notices."""
    if wanted():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = b"".join(line for line in caught.read().splitlines(keepends=True) if not is_notice(line))
            if kept:
                os.write(2, kept)
