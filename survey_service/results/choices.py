"""Per-item answer counts, and each respondent's y and score, from the compact `choices` codes.

The codes of many respondents form a respondents × items byte matrix. Lookup tables indexed by
the code byte give, per answer, whether it counts, whether it is 认可 and its score, so y and the
score follow the respondent path's rule (analysis.recognition: weighted 认可 share of the counted
items, or the overall item alone) without a Python loop; one bincount counts each item's options
per stratum.
"""

from __future__ import annotations

import numpy as np

from analysis import ItemTotals
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.answers import POSITIONS

OPTION_BYTES = np.frombuffer(POSITIONS.encode(), dtype=np.uint8)  # option position -> code byte


def _table(values: list[float], dtype) -> np.ndarray:
    """A 256-entry lookup from a code byte to the value of the option it names (0 elsewhere)."""
    table = np.zeros(256, dtype=dtype)
    table[OPTION_BYTES[:len(values)]] = values
    return table


class ItemCounter:
    """Counts the rated (scale) items of one questionnaire version."""

    def __init__(self, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.width = len(questionnaire.items)
        rated = [k for k, item in enumerate(questionnaire.items) if item.kind is ItemKind.scale]
        self.columns = np.array(rated, dtype=np.int64)
        self.names = [questionnaire.items[k].id for k in rated]
        weights = np.array([questionnaire.items[k].weight for k in rated], dtype=float)
        if questionnaire.overall_item in self.names:  # the overall item alone decides y
            weights = np.where(np.array(self.names) == questionnaire.overall_item, 1.0, 0.0)
        self.weights = None if (weights == 1).all() else weights
        scale = questionnaire.scale
        self.options = len(scale)
        self.counted = np.array([not o.excluded for o in scale], dtype=float)
        self.recognised = np.array([o.recognised for o in scale], dtype=float)
        self._counted = _table(self.counted, np.int8)
        self._recognised = _table(self.recognised, np.int8)
        scored = [o.score for o in scale if not o.excluded]
        self.scores = (None if any(s is None for s in scored) else
                       np.array([o.score or 0.0 for o in scale], dtype=float))
        self._score = None if self.scores is None else _table(self.scores, float)
        self._packed = self._packed_table()

    def _packed_table(self) -> np.ndarray | None:
        """counted | recognised << 8 | score << 16 per code byte, so that one lookup and one
        integer row sum give all three: exact for unit weights and whole scores in 0-100
        (at most 64 items: sums below 2^8 and 2^15)."""
        scores = np.zeros(self.options) if self.scores is None else self.scores
        if self.weights is not None or not all(float(x).is_integer() and 0 <= x <= 100 for x in scores):
            return None
        packed = self.counted + self.recognised * 2**8 + scores * 2**16
        return _table(packed, np.int32)

    def fits(self, codes: str, n: int) -> bool:
        return len(codes) == n * self.width

    def _weighted(self, values: np.ndarray) -> np.ndarray:
        if self.weights is None:
            return values.sum(axis=1, dtype=np.float64)
        return values.astype(float) @ self.weights

    def respondent_values(self, rated: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Each respondent's y and 0-100 score (nan where no item counts) from the rated items' codes."""
        if self._packed is not None:
            total = self._packed[rated].sum(axis=1, dtype=np.int32)
            counted, recognised, points = total & 255, (total >> 8) & 255, total >> 16
        else:
            counted = self._weighted(self._counted[rated])
            recognised = self._weighted(self._recognised[rated])
            points = None if self._score is None else self._weighted(self._score[rated])
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.where(counted > 0, recognised / counted, np.nan)
            score = None if self._score is None else np.where(counted > 0, points / counted, np.nan)
        return y, score

    def option_counts(self, rated: np.ndarray, stratum: np.ndarray, strata: int) -> np.ndarray:
        """Answers per stratum × rated item × option, from the rated items' codes."""
        items = rated.shape[1]
        kind = np.int32 if strata * items * 256 < 2**31 else np.int64
        slot = (stratum.astype(kind)[:, None] * items + np.arange(items, dtype=kind)) * 256 + rated
        counts = np.bincount(slot.ravel(), minlength=strata * items * 256).reshape(strata, items, 256)
        return counts[:, :, OPTION_BYTES[:self.options]].astype(float)

    def item_totals(self, counts: np.ndarray, keys: list[tuple[str, str | None]]) -> list[ItemTotals]:
        """ItemTotals from option_counts, one per stratum × item with rated answers."""
        rated, hits = counts @ self.counted, counts @ self.recognised
        sums = None if self.scores is None else (counts @ self.scores, counts @ self.scores**2)
        return [ItemTotals(item=name, group=group, school=school, n_rated=int(rated[k, j]),
                           n_recognised=int(hits[k, j]),
                           sum_score=None if sums is None else float(sums[0][k, j]),
                           sum_score2=None if sums is None else float(sums[1][k, j]))
                for k, (group, school) in enumerate(keys)
                for j, name in enumerate(self.names) if rated[k, j] > 0]

    def count(self, codes: str, n: int, group: str, school: str | None) -> list[ItemTotals]:
        """ItemTotals of one stratum from its n respondents' concatenated codes."""
        matrix = np.frombuffer(codes.encode("ascii"), dtype=np.uint8).reshape(n, self.width)
        counts = self.option_counts(matrix[:, self.columns], np.zeros(n, dtype=np.int64), 1)
        return self.item_totals(counts, [(group, school)])
