"""What a round's published figures depend on, as the tables hold it now, against the round's sealed
record (survey_service/seals/): every difference named in words (Chinese, with an English gloss).

Also the baseline: a round from before sealed records gets one made of what the tables hold when
`survey-service migrate` runs (`seal_baseline`), said so in its output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from survey_service.core import keys
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.distribution.tables import Link
from survey_service.respond.tables import Response
from survey_service.review.tables import ReviewDecision
from survey_service.schools.tables import School
from survey_service.seals import service as seals
from survey_service.surveys.service import SETTING_LABELS
from survey_service.surveys.tables import RoundChange, Survey

POPULATION_NAMES = "学生/家长/教师/校长"
ACTION_NAMES = {"exclude": "剔除", "keep": "确认有效", "reinstate": "恢复待审核"}


def _group(value: str) -> str:
    try:
        return GROUP_LABELS[Group(value)]
    except ValueError:
        return value


async def current_state(survey_id: int) -> dict[str, dict[str, Any]]:
    """The sealed parts as the tables hold them now (the same shape as the sealed record)."""
    survey = (
        await Survey.select(*(getattr(Survey, name) for name in seals.SETTINGS))
        .where(Survey.id == survey_id)
        .output(load_json=True)
        .first()
    )
    schools = await School.select(
        School.id, School.code, School.students, School.parents, School.teachers, School.principals
    ).where(School.survey == survey_id)
    codes = {row["id"]: row["code"] for row in schools}
    links = await Link.select(Link.id, Link.school, Link.respondent_group).where(Link.survey == survey_id)
    decisions = await ReviewDecision.select().where(ReviewDecision.survey == survey_id)
    changes = await RoundChange.select().where(RoundChange.survey == survey_id)
    state = {
        "settings": {name: (survey or {}).get(name) for name in seals.SETTINGS},
        "schools": {r["code"]: [r["students"], r["parents"], r["teachers"], r["principals"]] for r in schools},
        "links": {
            str(r["id"]): [codes.get(r["school"], "?" if r["school"] else ""), r["respondent_group"]] for r in links
        },
        "decisions": {str(r["id"]): seals.decision_digest(r) for r in decisions},
        "changes": {str(r["id"]): seals.change_digest(r) for r in changes},
    }
    return msgspec.json.decode(seals.canonical(state))


async def seal_baseline() -> list[int]:
    """Seal what the tables hold now for every round without a sealed record; the rounds sealed."""
    rounds = [row["id"] for row in await Survey.select(Survey.id).order_by(Survey.id)]
    made = []
    for survey_id in rounds:
        if await seals.read(survey_id) is None:
            await seals.seal(survey_id, **await current_state(survey_id))
            made.append(survey_id)
    return made


def _pairs(sealed: Mapping[str, Any], now: Mapping[str, Any]) -> tuple[list[str], list[str], list[str]]:
    """Names only sealed, only now, and in both with different values."""
    return (
        sorted(set(sealed) - set(now), key=_order),
        sorted(set(now) - set(sealed), key=_order),
        sorted((k for k in sealed.keys() & now.keys() if sealed[k] != now[k]), key=_order),
    )


def _order(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (0, name)


async def verify_state(survey_id: int) -> list[str]:
    """Each way the round's tables differ from its sealed record, in words; empty when none."""
    where = f"第 {survey_id} 轮 (round {survey_id})"
    sealed = await seals.read(survey_id)
    if sealed is None:
        return [
            f"{where}：没有封存记录，设置、名册、链接与审核记录无从核对 (no sealed record; run survey-service migrate)"
        ]
    if not sealed.intact:
        other = sealed.key_id != keys.key_id(keys.state_key())
        return [
            f"{where}：封存记录的签名 (HMAC) 不符，"
            + (
                "它由另一个 SURVEY_SECRET 封存 (sealed with another key)"
                if other
                else "封存记录本身被改动 (the sealed record was altered in the database)"
            )
        ]
    now = await current_state(survey_id)
    problems: list[str] = []
    old = sealed.state

    settings_then, settings_now = old.get("settings", {}), now["settings"]
    for name in seals.SETTINGS:
        if name in settings_then and settings_then[name] != settings_now.get(name):
            problems.append(
                f"{where}：设置“{SETTING_LABELS.get(name, name)}”被改动 (setting {name} changed outside the service)："
                f"{_text(settings_then[name])} → {_text(settings_now.get(name))}"
            )

    gone, added, changed = _pairs(old.get("schools", {}), now["schools"])
    for code in changed:
        then, current = old["schools"][code], now["schools"][code]
        problems.append(
            f"{where}：学校 {code} 的人数 ({POPULATION_NAMES}) 被改动 (school populations changed outside the service)："
            f"{'/'.join(map(str, then))} → {'/'.join(map(str, current))}"
        )
    problems += [f"{where}：学校 {code} 被删除 (school deleted outside the service)" for code in gone]
    problems += [f"{where}：学校 {code} 不在封存记录中 (school added outside the service)" for code in added]

    gone, added, changed = _pairs(old.get("links", {}), now["links"])
    for link in changed:
        (code_then, group_then), (code_now, group_now) = old["links"][link], now["links"][link]
        if code_then != code_now:
            problems.append(
                f"{where}：链接 {link}（{_group(group_then)}）由学校 {code_then or '全县'} 改到 {code_now or '全县'}，"
                f"其答卷计入了另一所学校 (link moved to another school)"
            )
        if group_then != group_now:
            problems.append(
                f"{where}：链接 {link} 的群体由 {_group(group_then)} 改为 {_group(group_now)} (link moved to another group)"
            )
    problems += [f"{where}：链接 {link} 被删除 (link deleted outside the service)" for link in gone]
    problems += [f"{where}：链接 {link} 不在封存记录中 (link added outside the service)" for link in added]

    for part, noun, gloss in (("decisions", "审核记录", "review decision"), ("changes", "变更记录", "round change")):
        gone, added, changed = _pairs(old.get(part, {}), now[part])
        problems += [f"{where}：{noun} {i} 被删除 ({gloss} {i} deleted from the audit log)" for i in gone]
        problems += [f"{where}：{noun} {i} 被改动 ({gloss} {i} altered)" for i in changed]
        problems += [f"{where}：{noun} {i} 不在封存记录中 ({gloss} {i} added outside the service)" for i in added]

    problems += await _review_states(survey_id, where)
    return problems


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_group(k)}: {v}" for k, v in sorted(value.items())) + "}" if value else "{}（默认）"
    return str(value)


async def _review_states(survey_id: int, where: str) -> list[str]:
    """Every answer's valid / excluded / kept state against what the review decisions say it is."""
    expected: dict[int, tuple[bool, str, str]] = {}
    decided = await ReviewDecision.select(
        ReviewDecision.id, ReviewDecision.response, ReviewDecision.action, ReviewDecision.reason
    ).where(ReviewDecision.survey == survey_id)
    for row in sorted(decided, key=lambda r: r["id"]):
        action, reason = row["action"], row["reason"]
        expected[row["response"]] = (
            (True, "", reason) if action == "keep" else (False, reason, "") if action == "exclude" else (True, "", "")
        )
    unusual = await Response.select(Response.id, Response.valid, Response.exclusion, Response.kept).where(
        (Response.survey == survey_id)
        & ((Response.valid == False) | (Response.exclusion != "") | (Response.kept != ""))  # noqa: E712
    )
    found = {row["id"]: (bool(row["valid"]), row["exclusion"], row["kept"]) for row in unusual}
    for response_id in expected.keys() - found.keys():
        found[response_id] = (True, "", "")  # decided, and back in the default state
    problems = []
    for response_id in sorted(found):
        state, wanted = found[response_id], expected.get(response_id, (True, "", ""))
        if state == wanted:
            continue
        if response_id not in expected:
            what = "被剔除" if not state[0] else "被标为确认有效"
            problems.append(
                f"{where}：答卷 {response_id} {what}（{state[1] or state[2] or '无原因'}），但审核记录中没有这项决定 "
                f"(response {response_id} {'excluded' if not state[0] else 'kept'} without a review decision)"
            )
        else:
            problems.append(
                f"{where}：答卷 {response_id} 的审核状态与审核记录不符：记录为{_status(wanted)}，数据库中为{_status(state)} "
                f"(response {response_id}: its review state differs from the audit log)"
            )
    return problems


def _status(state: tuple[bool, str, str]) -> str:
    valid, exclusion, kept = state
    if not valid:
        return f"剔除（{exclusion or '无原因'}）"
    return f"确认有效（{kept}）" if kept else "有效（待审核或未标记）"
