"""Per-stratum totals as the analysis takes them, accumulated from either read path."""

from __future__ import annotations

from collections import defaultdict

from analysis import CellTotals, Group, ItemTotals, ValidityCounts
from survey_service.ledger.validity import FLAGGED, PENDING, count
from survey_service.results.reasons import excluded_counts, flag_counts, kept_counts, source_counts

Key = tuple[str, str | None]  # (group, school code or None)


class Aggregates:
    def __init__(self) -> None:
        # n, Σy, Σy², respondents with a score, Σscore, Σscore²
        self._cells: dict[Key, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0.0, 0.0])
        # rated, recognised, Σscore, Σscore², any item without a score
        self._items: dict[tuple[str, str, str | None], list] = {}
        self.skipped = 0  # respondents left out of the item breakdown (questionnaire not on file)
        self.validity: ValidityCounts | None = None

    def add_cell(
        self, key: Key, n: int, sum_y: float, sum_y2: float, n_score: int, sum_score: float, sum_score2: float
    ) -> None:
        for k, value in enumerate((n, sum_y, sum_y2, n_score, sum_score, sum_score2)):
            self._cells[key][k] += value

    def add_items(self, items: list[ItemTotals]) -> None:
        for item in items:
            merged = self._items.setdefault((item.item, item.group, item.school), [0, 0, 0.0, 0.0, False])
            merged[0] += item.n_rated
            merged[1] += item.n_recognised
            merged[2] += item.sum_score or 0.0
            merged[3] += item.sum_score2 or 0.0
            merged[4] |= item.sum_score is None

    def set_validity(self, row: dict) -> None:
        """From `returned` and the validity marks of the round's tallies (see results.reasons)."""
        excluded = excluded_counts(row)
        self.validity = ValidityCounts(
            returned=int(row["returned"] or 0),
            valid=int(row["returned"] or 0) - sum(excluded.values()),
            excluded=excluded,
            flagged=count(row, FLAGGED),
            flags=flag_counts(row),
            pending=count(row, PENDING),
            kept=kept_counts(row),
            sources=source_counts(row),
        )

    def cell_totals(self) -> list[CellTotals]:
        # Scores only where every respondent of the stratum has one.
        return [
            CellTotals(
                group=Group(g),
                school=school,
                n=int(c[0]),
                sum_y=float(c[1]),
                sum_y2=float(c[2]),
                sum_score=float(c[4]) if c[3] == c[0] else None,
                sum_score2=float(c[5]) if c[3] == c[0] else None,
            )
            for (g, school), c in self._cells.items()
            if c[0] > 0
        ]

    def item_totals(self) -> list[ItemTotals]:
        return [
            ItemTotals(
                item=item,
                group=Group(g),
                school=school,
                n_rated=int(c[0]),
                n_recognised=int(c[1]),
                sum_score=None if c[4] else c[2],
                sum_score2=None if c[4] else c[3],
            )
            for (item, g, school), c in self._items.items()
        ]
