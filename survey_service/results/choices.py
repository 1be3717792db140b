"""Per-item totals of a stratum from its tally of option codes (ledger/tally.py).

A tally counts, per item position, how many counted answers chose each option code (the option's
position in the scale, as respond/answers.py writes `choices`). With the questionnaire's scale this
gives each rated item's 认可 share and score sums.
"""

from __future__ import annotations

import numpy as np

from analysis import Group, ItemTotals
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.answers import POSITIONS


class ItemCounter:
    """Counts the rated (scale) items of one questionnaire version."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.width = len(questionnaire.items)
        rated = [k for k, item in enumerate(questionnaire.items) if item.kind is ItemKind.scale]
        self.columns = rated
        self.names = [questionnaire.items[k].id for k in rated]
        scale = questionnaire.scale
        self.codes = POSITIONS[: len(scale)]
        self.counted = np.array([not o.excluded for o in scale], dtype=float)
        self.recognised = np.array([o.recognised for o in scale], dtype=float)
        scored = [o.score for o in scale if not o.excluded]
        self.scores = None if any(s is None for s in scored) else np.array([o.score or 0.0 for o in scale], dtype=float)

    def fits(self, choices: list[dict[str, int]]) -> bool:
        """The tally was made from this questionnaire's codes: one position per item, known options."""
        return len(choices) == self.width and all(set(choices[k]) <= {*self.codes, "-"} for k in self.columns)

    def totals(self, choices: list[dict[str, int]], group: str, school: str | None) -> list[ItemTotals]:
        """ItemTotals of one stratum, one per rated item with counted answers."""
        counts = np.array([[choices[k].get(code, 0) for code in self.codes] for k in self.columns], dtype=float)
        rated, hits = counts @ self.counted, counts @ self.recognised
        sums = None if self.scores is None else (counts @ self.scores, counts @ self.scores**2)
        return [
            ItemTotals(
                item=name,
                group=Group(group),
                school=school,
                n_rated=int(rated[j]),
                n_recognised=int(hits[j]),
                sum_score=None if sums is None else float(sums[0][j]),
                sum_score2=None if sums is None else float(sums[1][j]),
            )
            for j, name in enumerate(self.names)
            if rated[j] > 0
        ]
