"""A round's settings, checked in one place: whoever creates or edits a round (the console form, the
service, the demo) goes through `round_problems` / `validated_round`.

Problems are keyed by the RoundSpec field they concern (`group_weights.parent` for one group's entry)
and worded in Chinese for the bureau; the console form maps the keys to its own field names.
Target and confidence level are fractions here; the messages name them in percent, as the bureau
types them.
"""

from __future__ import annotations

import msgspec

from survey_service.core.errors import InvalidForm
from survey_service.core.groups import DEFAULT_QUESTIONNAIRES, GROUP_LABELS, Group
from survey_service.questionnaire import Questionnaire
from survey_service.surveys.schemas import DESIGN_LABELS, NATIONAL_WEIGHTING_LABELS, RoundSpec

CONFIDENCE_LEVELS = (0.90, 0.95, 0.99)
TARGET_RANGE = (0.01, 0.999)
MAX_RESIDENT_POPULATION = 1_000_000_000
MAX_COUNTY_POPULATION = 100_000_000
MAX_GROUP_WEIGHT = 1000.0
# 迎检预判's design effect of the national sample: 1 is simple random sampling; a bureau may assume a
# clustered national sample (larger), never a better-than-random one.
DESIGN_EFFECT_RANGE = (1.0, 10.0)


class InvalidRound(InvalidForm):
    """Settings a round cannot have; `errors` maps each RoundSpec field path to its problem."""

    status_code = 422
    code = "invalid_round"
    message = "轮次设置有误。"


def _outside(value: float, low: float, high: float, label: str) -> str | None:
    return f"{label}应在 {low:g} 到 {high:g} 之间。" if not low <= value <= high else None


def national_problems(weighting: str, design_effect: float | None) -> dict[str, str]:
    """The problems of 迎检预判's two settings (checked on creation and whenever they change)."""
    problems: dict[str, str | None] = {}
    if weighting not in NATIONAL_WEIGHTING_LABELS:
        problems["national_weighting"] = "请选择迎检预判的群体权重：按答卷人数，或按本轮群体权重。"
    if design_effect is not None:
        problems["national_design_effect"] = _outside(design_effect, *DESIGN_EFFECT_RANGE, "设计效应")
    return {name: message for name, message in problems.items() if message is not None}


def round_problems(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> dict[str, str]:
    """Every problem of the round's settings, by RoundSpec field path; empty when it can be saved."""
    problems: dict[str, str | None] = {}
    if not 1 <= len(spec.title) <= 200:
        problems["title"] = "请填写轮次名称（200 字以内）。"
    if not 1 <= len(spec.region) <= 100:
        problems["region"] = "请填写地区（100 字以内），例如：某某县。"
    problems["resident_population"] = _outside(spec.resident_population, 0, MAX_RESIDENT_POPULATION, "常住人口")
    if spec.closes_at <= spec.opens_at:
        problems["closes_at"] = "结束时间必须晚于开始时间。"
    # Compared in percent, as typed and shown (rounded: 99.9 / 100 * 100 is not quite 99.9).
    low, high = (round(x * 100, 6) for x in TARGET_RANGE)
    problems["target"] = _outside(round(spec.target * 100, 6), low, high, "目标认可度（%）")
    if round(spec.confidence_level, 6) not in CONFIDENCE_LEVELS:
        problems["confidence_level"] = "置信水平只能选择 90%、95% 或 99%。"
    if spec.design not in DESIGN_LABELS:
        problems["design"] = "请选择调查设计：全部学校参加，或抽样部分学校。"
    problems |= national_problems(spec.national_weighting, spec.national_design_effect)
    for g, weight in spec.group_weights.items():
        problems[f"group_weights.{g}"] = _outside(weight, 0, MAX_GROUP_WEIGHT, f"{GROUP_LABELS[g]}的权重")
    weights_in_range = not any(problems.get(f"group_weights.{g}") for g in spec.group_weights)
    if spec.group_weights and weights_in_range and sum(spec.group_weights.values()) <= 0:
        problems["group_weights"] = "群体权重之和必须大于 0；全部留空则使用默认权重（家长 0.5，其余群体平分 0.5）。"
    for g, qid in (DEFAULT_QUESTIONNAIRES | spec.questionnaires).items():
        if qid not in questionnaires or g not in questionnaires[qid].groups:
            problems[f"questionnaires.{g}"] = f"问卷“{qid}”不存在或不适用于{GROUP_LABELS[g]}。"
    for g, count in spec.county_populations.items():
        problems[f"county_populations.{g}"] = _outside(count, 0, MAX_COUNTY_POPULATION, f"{GROUP_LABELS[g]}总人数")
    return {path: message for path, message in problems.items() if message is not None}


def validated_round(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> RoundSpec:
    """The spec with every group's questionnaire (the default where it names none), or InvalidRound."""
    problems = round_problems(spec, questionnaires)
    if problems:
        raise InvalidRound(" ".join(problems.values()), errors=problems)
    chosen: dict[Group, str] = DEFAULT_QUESTIONNAIRES | spec.questionnaires
    return msgspec.structs.replace(spec, questionnaires=chosen)
