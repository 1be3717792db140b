"""The results workbook: the report's sheets (总体, 分群体, 分学校, 分题目, 有效性, 分地域, 分学段, from
survey_service.results.workbook) and a de-identified 原始数据 sheet, one row per returned
questionnaire (see answer_sheet).

On a large round the workbook takes a minute of CPU to write (bench/workbook.py: 66 s at 300,000
answers). In a thread of the web worker it held the GIL so much that the worker's event loop
answered about 200 requests/s instead of 15,000 meanwhile: phones would wait on a bureau download. So
it is built in a process of its own, from the database, one at a time per web worker
(`build_in_own_process`). That process ends with the app (`stop_builder`), or with the web worker
should it be killed.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from analysis import SurveyResult
from survey_service.core.settings import Settings
from survey_service.core.spreadsheet import xlsx_row
from survey_service.db.engine import connected
from survey_service.ledger.checkpoints import SignedCheckpoint, issue
from survey_service.questionnaire import Questionnaire
from survey_service.results.answer_sheet import raw_answer_header, raw_answer_rows, raw_answers
from survey_service.results.comparison import with_comparison
from survey_service.results.questionnaire_items import part_shares
from survey_service.results.school_items import Shares, round_weights
from survey_service.results.service import QuestionnaireItems, item_labels, round_result_by_questionnaire
from survey_service.results.suggestions import Suggestion, all_suggestions, suggestion_sheet_rows
from survey_service.results.workbook import new_sheet, saved, write_report_sheets, write_suggestions_sheet

RAW_SHEET = "原始数据"
CHECKPOINT_SHEET = "检查点"

_builders: ProcessPoolExecutor | None = None


def results_xlsx(
    result: SurveyResult,
    item_labels: dict[str, str],
    raw_header: list[str],
    raw_rows: Iterable[list[object]],
    parts: list[QuestionnaireItems] | None = None,
    shares: list[Shares] | None = None,
    suggestions: Iterable[list[object]] = (),
    checkpoint: SignedCheckpoint | None = None,
) -> bytes:
    book = Workbook(write_only=True)
    write_report_sheets(book, result, item_labels, parts, shares)
    write_suggestions_sheet(book, suggestions)
    sheet = new_sheet(book, RAW_SHEET, raw_header, widths=(), freeze="B2")
    for row in raw_rows:
        sheet.append(xlsx_row(sheet, row))
    if checkpoint is not None:
        write_checkpoint_sheet(book, checkpoint)
    return saved(book)


def write_checkpoint_sheet(book: Workbook, checkpoint: SignedCheckpoint) -> None:
    """The signed checkpoint of the data this workbook was built from (ledger/checkpoints.py)."""
    sheet = new_sheet(book, CHECKPOINT_SHEET, ["项目", "值"], widths=(24, 120))
    for row in (
        ["调查轮次", checkpoint.survey],
        ["答卷数", checkpoint.answers],
        ["哈希链止于答卷", checkpoint.last_id],
        ["链头", checkpoint.head],
        ["签发时间 (UTC)", checkpoint.issued_at],
        ["签名公钥 (Ed25519)", checkpoint.public_key],
        ["检查点（复制此行，用 survey-service verify --checkpoint 核对）", checkpoint.line()],
    ):
        sheet.append(xlsx_row(sheet, row))


async def build_in_own_process(settings: Settings, survey_id: int, questionnaires: dict[str, Questionnaire]) -> bytes:
    """The round's results workbook, built in the workbook process (started on first use; one
    workbook at a time, the next ones wait their turn)."""
    global _builders
    if _builders is None:
        _builders = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent
        )
    builders = _builders
    try:
        return await asyncio.get_running_loop().run_in_executor(builders, build, settings, survey_id, questionnaires)
    except BrokenProcessPool:
        if _builders is builders:  # the process died (killed, out of memory): a new one next time
            _builders = None
        raise


def stop_builder() -> None:
    """End the workbook process (the app's shutdown): a build under way is abandoned."""
    global _builders
    if _builders is not None:
        _builders.shutdown(wait=False, cancel_futures=True)
        _builders = None


def _end_with_parent() -> None:
    """In the workbook process: exit when the web worker that started it is gone (killed, or ended
    by a signal, when its own shutdown never runs), instead of waiting for work forever."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not started as a child process: nothing to watch
        return

    def watch() -> None:
        parent.join()
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def build(
    settings: Settings, survey_id: int, questionnaires: dict[str, Questionnaire], previous_id: int | None = None
) -> bytes:
    """The round's results workbook, read from the database by this process (with the questionnaires
    the app loaded, so that it agrees with the results page); compared with `previous_id`, else with
    the round's 对比轮次."""

    zone = ZoneInfo(settings.timezone)
    said: list[Suggestion] = []

    signed: list[SignedCheckpoint] = []

    async def read() -> tuple[SurveyResult, list[QuestionnaireItems], list[Shares], list[dict]]:
        async with connected(settings):
            result, parts = await round_result_by_questionnaire(survey_id, questionnaires=questionnaires)
            await with_comparison(survey_id, result, parts, previous_id, questionnaires=questionnaires)
            said.extend(await all_suggestions(survey_id, questionnaires, zone))
            weights, base = await round_weights(survey_id)
            shares = [part_shares(part, weights, base) for part in parts]
            answers = await raw_answers(survey_id)
            signed.append(await issue(survey_id, "结果工作簿"))
            return result, parts, shares, answers

    result, parts, shares, answers = asyncio.run(read())
    rows = raw_answer_rows(answers, questionnaires, ZoneInfo(settings.timezone))
    header = raw_answer_header(questionnaires)
    suggestions = suggestion_sheet_rows(said)
    return results_xlsx(result, item_labels(questionnaires), header, rows, parts, shares, suggestions, signed[0])
