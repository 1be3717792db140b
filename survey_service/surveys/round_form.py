"""The round form: posted text fields turned into a RoundSpec (percent text into fractions), checked by
the one round validator (surveys/validation.py), each problem named in Chinese by form field."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from analysis.design import DEFAULT_CONFIDENCE_LEVEL, DEFAULT_TARGET
from survey_service.core.errors import InvalidForm
from survey_service.core.groups import COUNTY_GROUPS, DEFAULT_QUESTIONNAIRES, GROUP_LABELS, Group
from survey_service.questionnaire import Questionnaire
from survey_service.surveys.schemas import RoundSpec
from survey_service.surveys.validation import CONFIDENCE_LEVELS, round_problems

# The form's own names of the settings whose validator key differs (group entries: see _form_field).
FORM_FIELDS = {"confidence_level": "confidence", "group_weights": "weight_parent"}
ENTRY_PREFIXES = {"group_weights": "weight_", "questionnaires": "questionnaire_", "county_populations": "population_"}


class InvalidRoundForm(InvalidForm):
    status_code = 422
    message = "表单有内容需要修改，请查看标红的项目。"


def questionnaire_choices(questionnaires: dict[str, Questionnaire]) -> dict[str, list[tuple[str, str]]]:
    """Per group, the questionnaires that may be given to it: [(id, title)]."""
    return {g.value: [(q.id, q.title) for q in questionnaires.values() if g.value in q.groups] for g in Group}


def percent_text(fraction: float) -> str:
    """A fraction as the console writes it in percent, without the sign: 0.85 -> "85"."""
    return f"{round(fraction * 100, 4):g}"


def confidence_choices() -> list[float]:
    """The confidence levels the form offers, in percent."""
    return [round(level * 100, 4) for level in CONFIDENCE_LEVELS]


def blank_form(zone: ZoneInfo) -> dict[str, str]:
    return {
        "target": percent_text(DEFAULT_TARGET),
        "confidence": percent_text(DEFAULT_CONFIDENCE_LEVEL),
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
        "target": percent_text(view.target),
        "confidence": percent_text(view.confidence_level),
        "design": view.design,
    }
    values |= {f"weight_{g}": f"{w:g}" for g, w in view.group_weights.items()}
    values |= {f"questionnaire_{g}": q for g, q in view.questionnaires.items()}
    values |= {f"population_{g}": str(n) for g, n in view.county_populations.items()}
    return values


def number_field(
    fields: dict[str, str],
    name: str,
    errors: dict[str, str],
    label: str,
    *,
    integer: bool = False,
) -> float | None:
    """The field's number; None when it is empty or is no number (then `errors` says so)."""
    text = fields.get(name, "").strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        value = int(text) if integer else float(text)
        finite = math.isfinite(value)  # an int beyond any float raises OverflowError here
    except (ValueError, OverflowError):
        finite = False
    if not finite:  # "nan", "inf", "1e999", 400 digits: no number a round can hold
        errors[name] = f"{label}必须是{'整数' if integer else '数字'}。"
        return None
    return value


def _moment(fields: dict[str, str], name: str, errors: dict[str, str], label: str, zone: ZoneInfo) -> datetime | None:
    text = fields.get(name, "").strip()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:
        errors[name] = f"请填写{label}（日期和时间）。"
        return None


def closing_time(fields: dict[str, str], zone: ZoneInfo) -> datetime | None:
    """The new closing time a lifecycle form asks for (field `closes_at`, in the county's zone); None
    when it is empty or no date."""
    errors: dict[str, str] = {}
    return _moment(fields, "closes_at", errors, "新的结束时间", zone)


def _form_field(path: str) -> str:
    """The form field of a validator key: `group_weights.parent` -> `weight_parent`."""
    setting, _, group = path.partition(".")
    return ENTRY_PREFIXES[setting] + group if group else FORM_FIELDS.get(setting, setting)


def parse_round_form(fields: dict[str, str], zone: ZoneInfo, questionnaires: dict[str, Questionnaire]) -> RoundSpec:
    """A RoundSpec, or InvalidRoundForm whose `errors` maps each bad field to its message: text that is
    no number or date is named here, every other problem by the round validator."""
    errors: dict[str, str] = {}
    population = number_field(fields, "resident_population", errors, "常住人口", integer=True)
    opens_at = _moment(fields, "opens_at", errors, "开始时间", zone)
    closes_at = _moment(fields, "closes_at", errors, "结束时间", zone)
    target = number_field(fields, "target", errors, "目标认可度（%）")
    confidence = number_field(fields, "confidence", errors, "置信水平（%）")
    weights = {g: number_field(fields, f"weight_{g.value}", errors, f"{GROUP_LABELS[g]}的权重") for g in Group}
    populations = {
        g: number_field(fields, f"population_{g.value}", errors, f"{GROUP_LABELS[g]}总人数", integer=True)
        for g in COUNTY_GROUPS
    }
    spec = RoundSpec(
        title=fields.get("title", "").strip(),
        region=fields.get("region", "").strip(),
        resident_population=int(population or 0),
        # A date that could not be read is named above; the widest window keeps the validator quiet on it.
        opens_at=opens_at or datetime.min.replace(tzinfo=UTC),
        closes_at=closes_at or datetime.max.replace(tzinfo=UTC),
        target=DEFAULT_TARGET if target is None else target / 100,
        confidence_level=DEFAULT_CONFIDENCE_LEVEL if confidence is None else confidence / 100,
        design=fields.get("design", "strata").strip() or "strata",
        group_weights={g: w for g, w in weights.items() if w is not None},
        questionnaires={g: qid for g in Group if (qid := fields.get(f"questionnaire_{g.value}", "").strip())},
        county_populations={g: int(n) for g, n in populations.items() if n is not None},
        # 迎检预判's settings are not on this form: a new round starts with the defaults, and the bureau
        # changes them at any time on the round page (surveys/national_settings.py).
    )
    # What the text already said wins over what the validator makes of its stand-in value.
    errors = {_form_field(path): message for path, message in round_problems(spec, questionnaires).items()} | errors
    if errors:
        raise InvalidRoundForm(errors=errors)
    return spec
