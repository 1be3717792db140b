"""A round's roster: import it (check it against the round, then schools and links in one go), add a
school to it and correct a school's name and counts, also while the round is open; every change is
written to the round's change log with who made it and why."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from survey_service.core.errors import Conflict, NotFound
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.db.transactions import locked_transaction
from survey_service.distribution.service import create_links
from survey_service.schools.roster import COLUMNS, RosterError
from survey_service.schools.schemas import POPULATION_FIELDS, SchoolRecord, SchoolSpec
from survey_service.schools.service import add_schools, round_schools, school_in_round, update_school
from survey_service.schools.tables import School
from survey_service.surveys.schemas import ChangeAction
from survey_service.surveys.service import InvalidChange, checked_reason, record_change, round_status
from survey_service.surveys.tables import Survey

CLOSED = "该轮次已结束，不能再修改学校名单；如需修改，请先重新开放该轮次。"
# How many schools an import's change log entry names (a county may have hundreds).
NAMED_IN_LOG = 20
FIELD_TITLES = dict(COLUMNS)


async def check_against_round(survey_id: int, schools: list[SchoolSpec]) -> None:
    """RosterError naming the rows whose code the round already has; Conflict once the round closed."""
    row = await Survey.select(Survey.opens_at, Survey.closes_at).where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    if round_status(row["opens_at"], row["closes_at"]) == "closed":
        raise Conflict(CLOSED)
    codes = [s.code for s in schools]
    taken = (
        {
            r["code"]
            for r in await School.select(School.code).where((School.survey == survey_id) & School.code.is_in(codes))
        }
        if codes
        else set()
    )
    if taken:
        raise RosterError(
            [
                f"第 {number} 行：学校代码 {s.code} 已在本轮次的名单中（修改已有学校的名称或人数，"
                "请在轮次页面的“修改学校名单”中逐校修改）。"
                for number, s in enumerate(schools, start=2)
                if s.code in taken
            ]
        )


async def _already_imported(survey_id: int, schools: list[SchoolSpec]) -> bool:
    """Every one of these schools is in the round's roster exactly as given: the same import again
    (a double click, a reloaded page), which is done already and changes nothing."""
    stored = {record.code: record for record in await round_schools(survey_id)}
    return bool(schools) and all(s.code in stored and _spec(stored[s.code]) == s for s in schools)


def _spec(record: SchoolRecord) -> SchoolSpec:
    return SchoolSpec(**{k: v for k, v in msgspec.structs.asdict(record).items() if k != "id"})


async def _status(survey_id: int) -> str:
    row = await Survey.select(Survey.opens_at, Survey.closes_at).where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    return round_status(row["opens_at"], row["closes_at"])


async def import_roster(survey_id: int, schools: list[SchoolSpec], *, actor: str, reason: str = "") -> int:
    """Add the schools and their links in one transaction: all of them or none, logged as one change
    (a written reason is required once the round is open). Returns the links made."""
    if await _already_imported(survey_id, schools):
        return 0
    await check_against_round(survey_id, schools)
    reason = checked_reason(reason, required=await _status(survey_id) == "open")
    async with locked_transaction(Survey._meta.db):
        # Again under the write lock: a double-clicked 确认导入 sends the same import twice at once.
        if await _already_imported(survey_id, schools):
            return 0
        await check_against_round(survey_id, schools)
        await add_schools(survey_id, schools)
        made = await create_links(survey_id)
        named = "、".join(f"{s.code} {s.name}" for s in schools[:NAMED_IN_LOG])
        more = f" 等 {len(schools)} 所" if len(schools) > NAMED_IN_LOG else ""
        details = f"添加学校 {len(schools)} 所：{named}{more}；新生成问卷链接 {made} 个。"
        await record_change(survey_id, ChangeAction.roster_add, details, reason=reason, actor=actor)
        return made


async def correct_school(
    survey_id: int, school: SchoolSpec, *, actor: str, reason: str, answered: Mapping[Group, int]
) -> None:
    """Correct one school of the roster (its code names it): name, stage, location and counts. A count
    may not fall below the valid answers its stratum already has (`answered`); nothing is deleted.
    A written reason is required once the round is open; the change log names each value changed."""
    status = await _status(survey_id)
    if status == "closed":
        raise Conflict(CLOSED)
    reason = checked_reason(reason, required=status == "open")
    errors = {
        field: f"{GROUP_LABELS[group]}已有 {answered[group]} 份有效答卷，{FIELD_TITLES[field]}不能少于 {answered[group]}。"
        for group, field in POPULATION_FIELDS.items()
        if getattr(school, field) < answered.get(group, 0)
    }
    if errors:
        raise InvalidChange(errors=errors)
    async with locked_transaction(Survey._meta.db):
        if await _status(survey_id) == "closed":
            raise Conflict(CLOSED)
        before = await school_in_round(survey_id, school.code)
        changed = [
            f"{title} {_shown(getattr(before, field))} → {_shown(getattr(school, field))}"
            for field, title in COLUMNS
            if getattr(before, field) != getattr(school, field)
        ]
        if not changed:
            raise InvalidChange(errors={"_form": "没有任何修改：填写的内容与名单中的相同。"})
        await update_school(survey_id, school)
        details = f"修改学校 {school.code} {before.name}：{'；'.join(changed)}。"
        await record_change(survey_id, ChangeAction.roster_edit, details, reason=reason, actor=actor)


def _shown(value: object) -> str:
    return str(getattr(value, "value", value))
