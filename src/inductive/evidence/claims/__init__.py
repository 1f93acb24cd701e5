"""The claims registry: each claim is one function registered with what it tests, in the lecture's order.

Adding a claim is one module with one `@register(...)` function (imported below)
and, if it needs runs, one preset. `report` and `figures` iterate `REGISTRY` and never name a claim.
A claim's judge gets the tidy `Tables` and returns a `Finding`: one `Cell` (verdict, effect, reason)
per dataset, the tables its verdict rests on, the effects rows behind it and the figures to draw
from those tables. Claims judged per condition also give a `Cell` per condition, so that a study
at several training-set sizes can answer size by size (`evidence.sizes`).
"""

from inductive.evidence.claims import invariance, overfitting, structure  # noqa: F401  (they register)
from inductive.evidence.claims.registry import (NOT_RUN, REGISTRY, Cell, ClaimSpec, Finding, Measure,  # noqa: F401
                                                cell_of, effect_text, headline_row, judge_all, register, row_effect)
