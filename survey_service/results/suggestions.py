"""意见建议: the free-text answers of a round, as staff read them.

The bureau reads every school's and group's; a school's operator reads its own school's parents' and
students' only (`core.groups.OPERATOR_GROUPS`): its principals (one to three people) and teachers answer about
their own school, and the operator could tell who wrote what.

Only valid answers: an answer the bureau excluded after review (organised or fake answering, a
duplicate) is left out here as it is from the result; a flagged answer still awaiting review counts,
and so does its suggestion.

Anonymous as shown and exported: each suggestion with its school, group and the day it came in (in
the county's zone), never the response id, the exact time, the device, network or browser hashes or
the nonce. Free text may hold a phone or an ID number: long digit runs are masked (`mask`) before the
text is shown, searched or exported, so that a search cannot confirm a number either.

Efficient on a large round: SQL picks the round's valid answers of the schools and groups asked for
that gave text (by the `t` at a text item's position in Response.choices, see respond/answers.py), and
with a search string also those whose stored JSON holds it; only those rows' JSON is decoded. Without
a search, SQL also counts and pages them, so only one page's JSON is decoded.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from survey_service.core.errors import InvalidForm
from survey_service.core.groups import GROUP_LABELS, GROUPS, Group
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.sources import SOURCE_LABELS, Source
from survey_service.respond.tables import Response

PER_PAGE = 50
SEARCH_MAX_LENGTH = 100
MASK = "***"
SHEET_TITLE = "意见建议"
SHEET_HEADER = ["学校", "调查对象", "提交日期", "来源", "意见建议"]
SHEET_WIDTHS = (28, 16, 12, 12, 100)
COUNTY_SCHOOL = "（县级，不属于学校）"  # the school cell of a county-level group's suggestion

SEARCH_TOO_LONG = f"搜索内容过长，最多 {SEARCH_MAX_LENGTH} 字。"
SEARCH_INVALID = "搜索内容含有无法识别的字符，请修改后重试。"
GROUP_NOT_SHOWN = "本页不能查看该调查对象的意见建议。"

# Seven or more digits in a row, single spaces or hyphens between them allowed (138 1234 5678,
# 0908-1234567), and an ID number's final X: a phone, ID, QQ or bank card number. Also masks a date
# written as 2024-09-01; better a date hidden than a number shown.
_LONG_DIGITS = re.compile(r"\d(?:[ \-－]?\d){6,}[Xx]?")
# Characters the stored JSON writes escaped, and the mask: a search holding one is not looked for in
# the JSON text by SQL (only in the decoded, masked text).
_NOT_IN_JSON = frozenset('"\\*')
_SOURCES = frozenset(s.value for s in Source)


class Suggestion(msgspec.Struct, kw_only=True, frozen=True):
    school: str  # the school's name; COUNTY_SCHOOL for the county-level groups
    school_code: str  # "" for the county-level groups (for sorting and filtering, never shown)
    group: Group
    group_label: str
    day: str  # YYYY-MM-DD in the county's zone: never the time
    source: str  # where the answer came from: 在线, 问卷星导入, 纸质问卷 (respond.sources)
    text: str  # masked


class SuggestionPage(msgspec.Struct, kw_only=True, frozen=True):
    items: list[Suggestion]
    total: int  # suggestions matching every filter
    # Suggestions per group under the school and search filters (the group filter not applied), in
    # the order of GROUPS, for the groups the reader may see.
    group_counts: dict[Group, int]
    page: int
    pages: int
    per_page: int

    @property
    def first(self) -> int:
        """The 1-based position of the page's first suggestion (0 on an empty page)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def mask(text: str) -> str:
    """The text with each long digit run (a phone or ID number) replaced by MASK."""
    return _LONG_DIGITS.sub(MASK, text)


def clean_search(raw: str | None) -> str:
    """The search string as searched (trimmed); InvalidForm (400, in Chinese) when too long or holding
    control characters (NUL among them) or unpaired surrogates."""
    term = (raw or "").strip()
    if len(term) > SEARCH_MAX_LENGTH:
        raise InvalidForm(SEARCH_TOO_LONG)
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in term):
        raise InvalidForm(SEARCH_INVALID)
    return term


def _sql_searchable(term: str) -> bool:
    """Whether SQL may pre-select rows by LOWER(answers) LIKE the term: the term appears verbatim in
    the stored JSON of any text holding it (no escaped character, no mask), and each letter folds
    the same in SQLite's ASCII-only LOWER, PostgreSQL's LOWER and Python's casefold."""
    return not _NOT_IN_JSON.intersection(term) and all(
        c.isascii() or c.lower() == c.upper() == c.casefold() == c for c in term
    )


def _like_pattern(term: str) -> str:
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_items(questionnaires: Mapping[str, Questionnaire]) -> dict[str, list[tuple[int, str]]]:
    """Questionnaire id -> its text items as (1-based position in Response.choices, item id)."""
    found = {
        q.id: [(i + 1, item.id) for i, item in enumerate(q.items) if item.kind is ItemKind.text]
        for q in questionnaires.values()
    }
    return {qid: items for qid, items in found.items() if items}


class _Query:
    """The WHERE clause (with its arguments, for piccolo's `{}` placeholders) of a round's valid
    answers that gave text, of some schools and groups."""

    def __init__(
        self,
        survey_id: int,
        questionnaires: Mapping[str, Questionnaire],
        groups: Sequence[Group],
        school_code: str | None,
    ) -> None:
        self.text_items = _text_items(questionnaires)
        self.args: list[object] = [survey_id, True]
        clauses = ["response.survey = {}", "response.valid = {}"]
        has_text = []
        for q in questionnaires.values():
            items = self.text_items.get(q.id)
            if not items:
                continue
            # Positions are ints from the loaded file; an answer to another version of the
            # questionnaire (changed mid-round) is picked by any `t` and read by item id.
            exact = " OR ".join(f"SUBSTR(response.choices, {position}, 1) = 't'" for position, _ in items)
            has_text.append(
                "(response.questionnaire_id = {} AND ((response.questionnaire_version = {} AND ("
                + exact
                + ")) OR (response.questionnaire_version <> {} AND response.choices LIKE '%t%')))"
            )
            self.args += [q.id, q.version, q.version]
        clauses.append("(" + (" OR ".join(has_text) or "1 = 0") + ")")
        clauses.append("response.respondent_group IN (" + ", ".join("{}" for _ in groups) + ")")
        self.args += [g.value for g in groups]
        if school_code is not None:
            clauses.append("school.code = {}")
            self.args.append(school_code)
        self.where = " AND ".join(clauses)

    def searching(self, term: str) -> None:
        if term and _sql_searchable(term):
            self.where += " AND LOWER(CAST(response.answers AS TEXT)) LIKE {} ESCAPE '\\'"
            self.args.append(_like_pattern(term))

    def of_group(self, group: Group) -> None:
        self.where += " AND response.respondent_group = {}"
        self.args.append(group.value)


_FROM = "FROM response LEFT JOIN school ON school.id = response.school"
_COLUMNS = (
    "SELECT school.code AS code, school.name AS name, response.respondent_group AS grp, "
    "response.questionnaire_id AS qid, response.answers AS answers, response.submitted_at AS submitted_at, "
    "response.source AS source "
)
_ORDER = " ORDER BY response.submitted_at DESC, response.id DESC"


def _decoded(answers: object) -> dict[str, object]:
    if isinstance(answers, dict):
        return answers
    try:
        value = msgspec.json.decode(answers) if isinstance(answers, (str, bytes)) else {}
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _suggestion(row: dict, text_items: Mapping[str, list[tuple[int, str]]], zone: ZoneInfo) -> Suggestion | None:
    answers = _decoded(row["answers"])
    texts = [
        value.strip()
        for _, item_id in text_items.get(row["qid"], [])
        if isinstance(value := answers.get(item_id), str) and value.strip()
    ]
    if not texts or row["grp"] not in Group.__members__:
        return None
    submitted = row["submitted_at"]
    if isinstance(submitted, str):  # SQLite hands back text
        submitted = datetime.fromisoformat(submitted)
    group = Group(row["grp"])
    return Suggestion(
        school=row["name"] or COUNTY_SCHOOL,
        school_code=row["code"] or "",
        group=group,
        group_label=GROUP_LABELS[group],
        day=submitted.astimezone(zone).date().isoformat(),
        source=SOURCE_LABELS[Source(row["source"])] if row["source"] in _SOURCES else SOURCE_LABELS[Source.online],
        text=mask("\n".join(texts)),
    )


def _matches(suggestion: Suggestion, term: str) -> bool:
    return not term or term.casefold() in suggestion.text.casefold()


async def round_suggestions(
    survey_id: int,
    questionnaires: Mapping[str, Questionnaire],
    zone: ZoneInfo,
    *,
    groups: Sequence[Group] = GROUPS,
    school_code: str | None = None,
    group: Group | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SuggestionPage:
    """One page of the round's suggestions, newest day first: of `groups` (those the reader may see),
    of one school if given, of one group if given, holding `search` (case-insensitive) if given.
    A page past the last gives the last."""
    if group is not None and group not in groups:
        raise InvalidForm(GROUP_NOT_SHOWN)
    term = clean_search(search)
    query = _Query(survey_id, questionnaires, groups, school_code)
    query.searching(term)
    if term:
        rows = await Response.raw(f"{_COLUMNS}{_FROM} WHERE {query.where}{_ORDER}", *query.args)
        found = [s for row in rows if (s := _suggestion(row, query.text_items, zone)) and _matches(s, term)]
        counts = {g: 0 for g in groups}
        for suggestion in found:
            counts[suggestion.group] += 1
        chosen = [s for s in found if group is None or s.group is group]
        pages, page = _pages(len(chosen), page, per_page)
        items = chosen[(page - 1) * per_page : page * per_page]
        return SuggestionPage(
            items=items, total=len(chosen), group_counts=counts, page=page, pages=pages, per_page=per_page
        )
    counted = await Response.raw(
        f"SELECT response.respondent_group AS grp, COUNT(*) AS n {_FROM} WHERE {query.where} "
        "GROUP BY response.respondent_group",
        *query.args,
    )
    per_group = {row["grp"]: int(row["n"]) for row in counted}
    counts = {g: per_group.get(g.value, 0) for g in groups}
    total = sum(counts.values()) if group is None else counts[group]
    pages, page = _pages(total, page, per_page)
    if group is not None:
        query.of_group(group)
    rows = await Response.raw(
        f"{_COLUMNS}{_FROM} WHERE {query.where}{_ORDER} LIMIT {{}} OFFSET {{}}",
        *query.args,
        per_page,
        (page - 1) * per_page,
    )
    items = [s for row in rows if (s := _suggestion(row, query.text_items, zone))]
    return SuggestionPage(items=items, total=total, group_counts=counts, page=page, pages=pages, per_page=per_page)


def _pages(total: int, page: int, per_page: int) -> tuple[int, int]:
    """(number of pages, the page shown: within 1 … pages)."""
    pages = max(1, math.ceil(total / per_page))
    return pages, min(max(1, page), pages)


async def all_suggestions(
    survey_id: int, questionnaires: Mapping[str, Questionnaire], zone: ZoneInfo
) -> list[Suggestion]:
    """Every suggestion of the round (the bureau's workbook): by school (county-level groups last),
    then group, then newest day first."""
    query = _Query(survey_id, questionnaires, GROUPS, None)
    rows = await Response.raw(f"{_COLUMNS}{_FROM} WHERE {query.where}{_ORDER}", *query.args)
    found = [s for row in rows if (s := _suggestion(row, query.text_items, zone))]
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(found, key=lambda s: (not s.school_code, s.school_code, order[s.group]))


def suggestion_sheet_rows(suggestions: Iterable[Suggestion]) -> Iterator[list[object]]:
    """The workbook's 意见建议 sheet rows under SHEET_HEADER: school, group, day, source, masked text."""
    for s in suggestions:
        yield [s.school, s.group_label, s.day, s.source, s.text]
