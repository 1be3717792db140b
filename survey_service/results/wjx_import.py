"""A 问卷星 export imported into a round (`survey-service import --from wjx`, the console's 导入问卷星数据):
each 答卷 becomes one of the round's answers on the link of its school × group, with source 问卷星,
checked, scored, chained and tallied like any answer (RespondService.submit_external's rules).

All or nothing: every row is placed and checked before any is written; any problem (an unknown
school or identity, a question that matches no item of the group's questionnaire, an answer that is
not one of its options) is a WjxError naming the 序号, and nothing is stored. Each answer's key is
"wjx:<round>:<序号>:<digest of its content>": importing the same file again (as .xlsx or .csv, or a
later download that has more answers) stores only the answers not stored before. Should the
database fail half-way, what was committed stays (each answer is whole) and importing the file again
completes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from survey_service.core.errors import InvalidAnswers, StorageUnavailable
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.core.settings import Settings
from survey_service.db.engine import current_engine
from survey_service.distribution.service import LinkCache, list_links
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.questionnaire import Questionnaire
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.service import RespondService, ensure_importable
from survey_service.respond.sources import Source
from survey_service.results.wjx_input import WjxColumn, WjxError, normalised, read_wjx
from survey_service.results.wjx_map import School, Unmatched, WjxMapping, map_export, read_map
from survey_service.results.wjx_text import comparable, given_texts, text_ids, text_line
from survey_service.schools.service import round_schools
from survey_service.surveys.schemas import ChangeAction
from survey_service.surveys.service import record_change

_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M")


class ImportNotStored(StorageUnavailable):
    """The database could not take the import's transaction: none of its answers were stored."""

    message = "数据库暂时无法写入，本次导入没有保存任何答卷。请稍后重新导入同一文件。"


@dataclasses.dataclass
class ImportPlan:
    survey_id: int
    mapping: WjxMapping
    rows: list[AnswerRow]
    # Per questionnaire answered: which column is which item, in Chinese (shown before importing).
    item_lines: list[str]

    def summary(self) -> list[str]:
        return [*self.mapping.summary(), *self.item_lines]


@dataclasses.dataclass(frozen=True)
class ImportOutcome:
    stored: int
    already: int  # imported before (the same 序号 and content): not stored again


async def plan_import(
    respond: RespondService,
    survey_id: int,
    name: str,
    content: bytes,
    map_content: bytes | None = None,
    unmatched: Unmatched = "error",
) -> ImportPlan:
    """Read and check the whole export against the round; WjxError (nothing stored) on any problem."""
    await ensure_importable(survey_id)
    given = read_map("映射文件", map_content) if map_content else None
    schools = [School(s.code, s.name) for s in await round_schools(survey_id)]
    mapping = map_export(read_wjx(name, content), schools, given, unmatched)
    tokens = {
        (row.school_code or None, row.group): row.url.rsplit("/", 1)[1] for row in await list_links(survey_id, "")
    }
    zone = ZoneInfo(respond.settings.timezone)
    item_lines: list[str] = []
    columns_of: dict[str, dict[int, str]] = {}
    texts_of: dict[str, dict[int, str]] = {}
    cells_of = dict(mapping.table.rows)
    rows = []
    for answer in mapping.answers:
        token = tokens.get((answer.school, answer.group))
        if token is None:
            place = f"{answer.school} 的" if answer.school else ""
            raise WjxError(f"{name} 序号 {answer.serial}：本轮没有{place}{GROUP_LABELS[answer.group]}问卷链接。")
        link = await respond.links.get(token)
        questionnaire = respond.questionnaire_for(link)
        if questionnaire.id not in columns_of:
            columns_of[questionnaire.id] = _item_ids(name, mapping, questionnaire)
            item_lines.append(_item_line(mapping.items, columns_of[questionnaire.id], questionnaire, answer.group))
            texts_of[questionnaire.id] = text_ids(name, mapping.texts, mapping.item_ids, questionnaire)
            item_lines += filter(None, [text_line(mapping.texts, texts_of[questionnaire.id], questionnaire)])
        given_answers = _given(
            name, answer.serial, mapping, questionnaire, columns_of[questionnaire.id], answer.ratings
        ) | given_texts(cells_of[answer.line], texts_of[questionnaire.id])
        key = f"wjx:{survey_id}:{answer.serial[:24]}:{answer.digest}"
        try:
            rows.append(
                await respond.external_row(
                    token,
                    key,
                    given_answers,
                    source=Source.wjx,
                    submitted_at=_moment(name, answer.serial, answer.submitted_at, zone),
                    seconds=answer.seconds,
                )
            )
        except InvalidAnswers as exc:
            # Each problem by its column (题14), never the item's internal id.
            placed = columns_of[questionnaire.id] | texts_of[questionnaire.id]
            label = {placed[c.index]: c.label for c in (*mapping.items, *mapping.texts) if c.index in placed}
            problems = "；".join(f"{label.get(item, item)}：{message}" for item, message in exc.errors.items())
            raise WjxError(f"{name} 序号 {answer.serial}：{problems}") from None
    return ImportPlan(survey_id=survey_id, mapping=mapping, rows=rows, item_lines=item_lines)


async def run_import(respond: RespondService, plan: ImportPlan, *, actor: str) -> ImportOutcome:
    """Write the planned answers all together: the response writer commits them in one transaction,
    so a database failure stores none of them (and importing again stores them all); the round's
    change log says how many were added, from which file, by whom."""
    await ensure_importable(plan.survey_id)
    stored = 0
    for written in await respond.writer.write_many(plan.rows):
        if isinstance(written, StorageUnavailable):
            raise ImportNotStored() from written
        if isinstance(written, Exception):
            raise written
        stored += bool(written)
    outcome = ImportOutcome(stored=stored, already=len(plan.rows) - stored)
    if stored:
        details = f"从问卷星导出文件 {plan.mapping.table.name} 导入 {stored} 份答卷"
        if outcome.already:
            details += f"（另有 {outcome.already} 份此前已导入，未重复保存）"
        await record_change(plan.survey_id, ChangeAction.import_answers, details + "。", actor=actor)
    return outcome


async def import_export(
    settings: Settings,
    questionnaires: dict[str, Questionnaire],
    survey_id: int,
    name: str,
    content: bytes,
    map_content: bytes | None = None,
    unmatched: Unmatched = "error",
) -> tuple[ImportPlan, ImportOutcome]:
    """`survey-service import`: plan, then write through a response writer of its own."""
    writer = ResponseWriter(response_store(current_engine()), batch_size=settings.write_batch_size)
    respond = RespondService(settings, LinkCache(0), questionnaires, writer)
    try:
        plan = await plan_import(respond, survey_id, name, content, map_content, unmatched)
        await writer.start()
        try:
            return plan, await run_import(respond, plan, actor="命令行")
        finally:
            await writer.stop()
    finally:
        await respond.close()


def _item_ids(name: str, mapping: WjxMapping, questionnaire: Questionnaire) -> dict[int, str]:
    """Column index -> the questionnaire's rated item: as the mapping file says, else by the
    question's text, else by position when the export has exactly as many rated questions."""
    rated = questionnaire.rated_items
    ids = {item.id for item in rated}
    named = {c.index: mapping.item_ids[c.index] for c in mapping.items if c.index in mapping.item_ids}
    if named:
        unknown = sorted(set(named.values()) - ids)
        if unknown:
            raise WjxError(f"映射文件：问卷“{questionnaire.title}”中没有题目 {', '.join(unknown)}。")
        return named
    texts = {comparable(item.text): item.id for item in rated}
    by_text: dict[int, str] = {}
    for column in mapping.items:
        wanted = comparable(column.row_label or column.text)
        found = texts.get(wanted) or next(
            (i for t, i in texts.items() if wanted and (wanted in t or t in wanted)), None
        )
        if found is not None and found not in by_text.values():
            by_text[column.index] = found
    if len(by_text) == len(mapping.items):
        return by_text
    if len(mapping.items) == len(rated):
        return {column.index: item.id for column, item in zip(mapping.items, rated)}
    raise WjxError(
        f"{name}：{len(mapping.items)} 道评价题无法与问卷“{questionnaire.title}”的 {len(rated)} 道评价题一一对应；"
        "请在映射文件的 [items.ids] 中写出每一列对应的题目编号。"
    )


def _item_line(columns: Sequence[WjxColumn], ids: dict[int, str], questionnaire: Questionnaire, group: Group) -> str:
    # By the questionnaire's own numbering and the start of the item's text, never its internal id.
    position = {item.id: (k, item.text) for k, item in enumerate(questionnaire.items, start=1)}
    pairs = "；".join(
        f"{c.label}→问卷第{position[ids[c.index]][0]}题“{_short(position[ids[c.index]][1])}”"
        for c in columns
        if c.index in ids
    )
    return f"题目对应（{questionnaire.title}，{GROUP_LABELS[group]}等）：{pairs}"


def _short(text: str, length: int = 14) -> str:
    return text if len(text) <= length else text[:length] + "…"


def _given(
    name: str,
    serial: str,
    mapping: WjxMapping,
    questionnaire: Questionnaire,
    ids: dict[int, str],
    ratings: tuple[str | None, ...],
) -> dict[str, str]:
    items = {item.id: item for item in questionnaire.rated_items}
    given = {}
    for column, rating in zip(mapping.items, ratings):
        item_id = ids.get(column.index)
        if item_id is None or rating is None:
            continue
        codes = {normalised(o.label): o.code for o in questionnaire.options_for(items[item_id])}
        if rating not in codes:
            raise WjxError(
                f"{name} 序号 {serial}：{column.label} 的答案“{rating}”不是问卷“{questionnaire.title}”的选项"
                f"（{'/'.join(o.label for o in questionnaire.options_for(items[item_id]))}）。"
            )
        given[item_id] = codes[rating]
    return given


def _moment(name: str, serial: str, text: str, zone: ZoneInfo) -> datetime:
    """提交答卷时间 (the county's local time) as an instant; the import's time when the export has none."""
    text = text.strip()
    if not text:
        return datetime.now(UTC)
    for layout in _TIME_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=zone).astimezone(UTC)
        except ValueError:
            continue
    raise WjxError(f"{name} 序号 {serial}：提交答卷时间“{text}”无法识别。")
