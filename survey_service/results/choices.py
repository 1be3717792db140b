"""Per-item answer counts of one stratum from the compact `choices` codes of its responses.

The database concatenates a stratum's codes into one string (one scan, a handful of rows);
here the string becomes a respondents × items byte matrix and each item's options are counted
with one bincount. Counting is exact: no respondent-level data leaves this function.
"""

from __future__ import annotations

import numpy as np

from analysis import ItemTotals
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.answers import POSITIONS

# Byte of a choices code -> option position; -1 for "-" (no answer), "t" (text) and anything else.
_POSITION_OF = np.full(256, -1, dtype=np.int64)
_POSITION_OF[np.frombuffer(POSITIONS.encode(), dtype=np.uint8)] = np.arange(len(POSITIONS))


class ItemCounter:
    """Counts the rated (scale) items of one questionnaire version."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.width = len(questionnaire.items)
        rated = [k for k, item in enumerate(questionnaire.items) if item.kind is ItemKind.scale]
        self.columns = np.array(rated, dtype=np.int64)
        self.names = [questionnaire.items[k].id for k in rated]
        scale = questionnaire.scale
        self.options = len(scale)
        self.counted = np.array([not o.excluded for o in scale], dtype=float)
        self.recognised = np.array([o.recognised for o in scale], dtype=float)
        scored = [o.score for o in scale if not o.excluded]
        self.scores = (None if any(s is None for s in scored) else
                       np.array([o.score or 0.0 for o in scale], dtype=float))

    def fits(self, codes: str, n: int) -> bool:
        return len(codes) == n * self.width

    def count(self, codes: str, n: int, group: str, school: str | None) -> list[ItemTotals]:
        """ItemTotals of the rated items, from n respondents' concatenated codes."""
        matrix = np.frombuffer(codes.encode("ascii"), dtype=np.uint8).reshape(n, self.width)
        position = _POSITION_OF[matrix[:, self.columns]]
        slot = position + np.arange(len(self.columns)) * self.options
        counts = np.bincount(slot[position >= 0], minlength=len(self.columns) * self.options)
        counts = counts.reshape(len(self.columns), self.options).astype(float)
        rated, hits = counts @ self.counted, counts @ self.recognised
        sums = None if self.scores is None else (counts @ self.scores, counts @ self.scores**2)
        return [ItemTotals(item=name, group=group, school=school, n_rated=int(rated[j]),
                           n_recognised=int(hits[j]),
                           sum_score=None if sums is None else float(sums[0][j]),
                           sum_score2=None if sums is None else float(sums[1][j]))
                for j, name in enumerate(self.names) if rated[j] > 0]
