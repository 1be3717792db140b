"""The round form: from posted text fields to a RoundSpec, each problem named in Chinese by field."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from survey_service.core.errors import InvalidForm
from survey_service.core.groups import COUNTY_GROUPS, DEFAULT_QUESTIONNAIRES, GROUP_LABELS, Group
from survey_service.questionnaire import Questionnaire
from survey_service.surveys.schemas import DESIGN_LABELS, RoundSpec

CONFIDENCE_CHOICES = (90.0, 95.0, 99.0)


class InvalidRoundForm(InvalidForm):
    status_code = 422
    message = "表单有内容需要修改，请查看标红的项目。"


def questionnaire_choices(questionnaires: dict[str, Questionnaire]) -> dict[str, list[tuple[str, str]]]:
    """Per group, the questionnaires that may be given to it: [(id, title)]."""
    return {g.value: [(q.id, q.title) for q in questionnaires.values() if g.value in q.groups] for g in Group}


def blank_form(zone: ZoneInfo) -> dict[str, str]:
    return {
        "target": "85",
        "confidence": "95",
        "resident_population": "0",
        "design": "strata",
        **{f"questionnaire_{g.value}": qid for g, qid in DEFAULT_QUESTIONNAIRES.items()},
    }


def form_from_round(view) -> dict[str, str]:
    values = {
        "title": view.title,
        "region": view.region,
        "resident_population": str(view.resident_population),
        "opens_at": view.opens_at_input,
        "closes_at": view.closes_at_input,
        "target": f"{view.target_percent:g}",
        "confidence": f"{view.confidence_percent:g}",
        "design": view.design,
    }
    values |= {f"weight_{g}": f"{w:g}" for g, w in view.group_weights.items()}
    values |= {f"questionnaire_{g}": q for g, q in view.questionnaires.items()}
    values |= {f"population_{g}": str(n) for g, n in view.county_populations.items()}
    return values


def _number(
    fields: dict[str, str],
    name: str,
    errors: dict[str, str],
    label: str,
    *,
    integer: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> float | None:
    text = fields.get(name, "").strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        errors[name] = f"{label}必须是{'整数' if integer else '数字'}。"
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        errors[name] = f"{label}应在 {low:g} 到 {high:g} 之间。"
        return None
    return value


def _moment(fields: dict[str, str], name: str, errors: dict[str, str], label: str, zone: ZoneInfo) -> datetime | None:
    text = fields.get(name, "").strip()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:
        errors[name] = f"请填写{label}（日期和时间）。"
        return None


def parse_round_form(fields: dict[str, str], zone: ZoneInfo, questionnaires: dict[str, Questionnaire]) -> RoundSpec:
    """A RoundSpec, or InvalidRoundForm whose `errors` maps each bad field to its message."""
    errors: dict[str, str] = {}
    title, region = fields.get("title", "").strip(), fields.get("region", "").strip()
    if not 1 <= len(title) <= 200:
        errors["title"] = "请填写轮次名称（200 字以内）。"
    if not 1 <= len(region) <= 100:
        errors["region"] = "请填写地区（100 字以内），例如：某某县。"
    population = _number(fields, "resident_population", errors, "常住人口", integer=True, low=0, high=1e9)
    opens_at = _moment(fields, "opens_at", errors, "开始时间", zone)
    closes_at = _moment(fields, "closes_at", errors, "结束时间", zone)
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = "结束时间必须晚于开始时间。"
    target = _number(fields, "target", errors, "目标认可度（%）", low=1, high=99.9)
    confidence = _number(fields, "confidence", errors, "置信水平（%）")
    if confidence is not None and confidence not in CONFIDENCE_CHOICES:
        errors["confidence"] = "置信水平只能选择 90%、95% 或 99%。"
    design = fields.get("design", "strata").strip() or "strata"
    if design not in DESIGN_LABELS:
        errors["design"] = "请选择调查设计：全部学校参加，或抽样部分学校。"
    weights = {
        g: _number(fields, f"weight_{g.value}", errors, f"{GROUP_LABELS[g]}的权重", low=0, high=1000) for g in Group
    }
    given = {g: w for g, w in weights.items() if w is not None}
    if given and sum(given.values()) <= 0:
        errors["weight_parent"] = "群体权重之和必须大于 0；全部留空则使用默认权重（家长 0.5，其余群体平分 0.5）。"
    chosen = {g: fields.get(f"questionnaire_{g.value}", "").strip() or DEFAULT_QUESTIONNAIRES[g] for g in Group}
    for g, qid in chosen.items():
        if qid not in questionnaires or g.value not in questionnaires[qid].groups:
            errors[f"questionnaire_{g.value}"] = f"问卷“{qid}”不存在或不适用于{GROUP_LABELS[g]}。"
    populations = {
        g: _number(fields, f"population_{g.value}", errors, f"{GROUP_LABELS[g]}总人数", integer=True, low=0, high=1e8)
        for g in COUNTY_GROUPS
    }
    if errors:
        raise InvalidRoundForm(errors=errors)
    return RoundSpec(
        title=title,
        region=region,
        resident_population=int(population or 0),
        opens_at=opens_at,
        closes_at=closes_at,
        target=(target if target is not None else 85) / 100,
        confidence_level=(confidence or 95) / 100,
        design=design,
        group_weights=given,
        questionnaires=chosen,
        county_populations={g: int(n) for g, n in populations.items() if n is not None},
    )
