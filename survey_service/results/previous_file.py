"""`survey-service analyze --previous FILE`: the previous round's answers, in the same format as the
current file and on the same roster, analysed with the same settings and compared (与上一轮对比).

With `--questionnaire`, items are matched by id; where the previous round's questionnaire is given too
(`--previous-questionnaire`, else the same file is taken for both), an item whose wording or options
differ between the two is 不可比."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from analysis import Settings, SurveyResult
from analysis.comparison import compare
from analysis.comparison_results import Comparison, TrendPoint
from survey_service.core.groups import Group
from survey_service.questionnaire import Questionnaire
from survey_service.results import csv_input
from survey_service.results.comparison import item_wording
from survey_service.schools.schemas import RosterSchool

# Reads a file of answers (with the questionnaire its round answered) as the current file was read.
ReadAnswers = Callable[[Path, Questionnaire | None], csv_input.Answers]


def _point(name: str, result: SurveyResult, current: bool) -> list[TrendPoint]:
    o = result.overall
    if o is None:
        return []
    point = TrendPoint(
        round=None, title=name, date=None, estimate=o.estimate, ci_low=o.ci_low, ci_high=o.ci_high, n=o.n
    )
    point.current = current
    return [point]


def compare_with_file(
    result: SurveyResult,
    current: Path,
    previous: Path,
    read: ReadAnswers,
    roster: list[RosterSchool],
    settings: Settings,
    county_populations: dict[Group, int],
    form: Questionnaire | None,
    previous_form: Questionnaire | None,
) -> Comparison:
    """The current file's result against the previous file's; InputError names a problem by file."""
    if previous.resolve() == current.resolve():
        raise csv_input.InputError(f"--previous {previous.name}：与本轮答卷是同一个文件，请给出上一轮的答卷文件。")
    before = csv_input.analyse_files(roster, read(previous, previous_form), settings, county_populations)
    return compare(
        result,
        before,
        previous_title=previous.name,
        current_wording=item_wording(form, by_questionnaire=False) if form else None,
        previous_wording=item_wording(previous_form, by_questionnaire=False) if previous_form else None,
        trend=[*_point(previous.name, before, False), *_point(current.name, result, True)],
    )
