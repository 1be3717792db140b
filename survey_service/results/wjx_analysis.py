"""`survey-service analyze` on a 问卷星 export: its placed answers as the analysis inputs.

A respondent's recognition y is the share of 认可 among its rated answers (不了解 and skipped items
left out, every item weighing the same); a respondent with no rated answer is returned but not
counted (invalid, listed by 序号).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.recognition import recognition_matrix, score_matrix
from survey_service.results.csv_input import Answers
from survey_service.results.wjx_input import normalised, read_wjx
from survey_service.results.wjx_map import School, Unmatched, WjxMapping, map_export, read_map
from survey_service.schools.schemas import RosterSchool


def read_wjx_answers(
    path: Path, roster: list[RosterSchool], map_file: Path | None, unmatched: Unmatched
) -> tuple[Answers, WjxMapping, list[str]]:
    """The answers, the mapping (for the report on stderr) and the report's lines."""
    given = read_map(map_file.name, map_file.read_bytes()) if map_file else None
    mapping = map_export(
        read_wjx(path.name, path.read_bytes()), [School(s.code, s.name) for s in roster], given, unmatched
    )
    answers = wjx_answers(mapping)
    invalid = [a.serial for a, y in zip(mapping.answers, answers.y) if np.isnan(y)]
    lines = mapping.summary()
    if invalid:
        lines.append(f"无效答卷（评价题全部为“不了解”或未答，不计入）：序号 {'、'.join(invalid)}")
    return answers, mapping, lines


def wjx_answers(mapping: WjxMapping) -> Answers:
    options = {normalised(o.label): o for o in mapping.scale}
    shape = (len(mapping.answers), len(mapping.items))
    recognised, excluded = np.zeros(shape, bool), np.ones(shape, bool)
    scores = np.full(shape, np.nan)
    for r, answer in enumerate(mapping.answers):
        for j, rating in enumerate(answer.ratings):
            if rating is None:
                continue
            option = options[rating]
            recognised[r, j], excluded[r, j] = option.recognised, option.excluded
            scores[r, j] = np.nan if option.score is None else option.score
    has_scores = bool(np.isfinite(scores[~excluded]).any())
    return Answers(
        groups=[a.group.value for a in mapping.answers],
        schools=[a.school for a in mapping.answers],
        y=recognition_matrix(recognised, excluded),
        score=score_matrix(scores, excluded) if has_scores else None,
        returned=len(mapping.answers),
        reviewed=0,
        item_names=[c.label for c in mapping.items],
        item_recognised=recognised,
        item_excluded=excluded,
        item_scores=scores if has_scores else None,
    )


def item_labels(mapping: WjxMapping) -> dict[str, str]:
    return {c.label: c.text for c in mapping.items}
