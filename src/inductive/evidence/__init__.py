"""From run folders to verdicts: tidy tables, statistics, the claims registry, figures and the report.

Nothing here imports TensorFlow: a report is rebuilt from run folders (or saved tables) alone.
"""
