"""迎检预判's two round settings: how the national sample's groups are weighed and its design effect.

They change no answer and no figure of the round itself, only an assumption of the forecast the bureau
reads after the survey too; so, like the 对比轮次, they may be changed at any time, also after the round
closed (the round form, which is locked once the round opens, does not carry them). Each change is
written to the change log (who, from → to) and to the round's sealed record in the same transaction,
so `survey-service verify` still holds, while a value changed in the database directly does not.
"""

from __future__ import annotations

from survey_service.core.errors import NotFound, SurveyServiceError
from survey_service.db.transactions import locked_transaction
from survey_service.seals import service as seals
from survey_service.surveys.round_form import number_field
from survey_service.surveys.schemas import NATIONAL_WEIGHTING_LABELS, ChangeAction
from survey_service.surveys.service import SETTING_LABELS, record_change
from survey_service.surveys.tables import Survey
from survey_service.surveys.validation import national_problems

EACH_GROUPS_OWN = "取本轮各群体的设计效应（不小于 1）"  # a design effect of None, in words


class InvalidNationalSettings(SurveyServiceError):
    """迎检预判 settings that cannot be saved; nothing was changed."""

    status_code = 422
    code = "invalid_national_settings"
    message = "迎检预判设置有误，未保存。"


def design_effect_text(value: float | None) -> str:
    """The design effect as its form field shows it: empty for None (each group's in this round)."""
    return "" if value is None else f"{value:g}"


def _described(name: str, value: str | float | None) -> str:
    if name == "national_weighting":
        return NATIONAL_WEIGHTING_LABELS.get(str(value), str(value))
    return EACH_GROUPS_OWN if value is None else f"{value:g}"


def parse_national_form(fields: dict[str, str]) -> tuple[str, float | None]:
    """(weighting, design effect) from the round page's form; InvalidNationalSettings names every problem
    in Chinese. An empty design effect means each group's own in this round."""
    errors: dict[str, str] = {}
    weighting = fields.get("national_weighting", "").strip()
    design_effect = number_field(fields, "national_design_effect", errors, "设计效应")
    problems = national_problems(weighting, design_effect) | errors
    if problems:
        raise InvalidNationalSettings(" ".join(problems.values()))
    return weighting, design_effect


async def set_national_settings(survey_id: int, weighting: str, design_effect: float | None, *, actor: str) -> None:
    """Save 迎检预判's settings in any state of the round; logged (from → to) and sealed when they change."""
    problems = national_problems(weighting, design_effect)
    if problems:
        raise InvalidNationalSettings(" ".join(problems.values()))
    wanted = {"national_weighting": weighting, "national_design_effect": design_effect}
    async with locked_transaction(Survey._meta.db):
        current = (
            await Survey.select(Survey.national_weighting, Survey.national_design_effect)
            .where(Survey.id == survey_id)
            .first()
        )
        if current is None:
            raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
        changed = [name for name, value in wanted.items() if current[name] != value]
        if not changed:
            return
        await Survey.update({Survey.national_weighting: weighting, Survey.national_design_effect: design_effect}).where(
            Survey.id == survey_id
        )
        await seals.seal(survey_id, settings=wanted)
        details = "；".join(
            f"{SETTING_LABELS[name]}：{_described(name, current[name])} → {_described(name, wanted[name])}"
            for name in changed
        )
        await record_change(survey_id, ChangeAction.national, details + "。", actor=actor)
