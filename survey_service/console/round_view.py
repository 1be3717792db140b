"""Rounds as the console shows them: listed and read, with their status and counts (creating,
editing, opening, closing, extending and reopening are surveys/service.py's)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import msgspec

from survey_service.accounts.schemas import CurrentUser
from survey_service.distribution.service import link_counts
from survey_service.schools.service import rounds_with_school, school_counts
from survey_service.surveys.round_form import percent_text
from survey_service.surveys.schemas import DESIGN_LABELS, NATIONAL_WEIGHTING_LABELS, RoundRecord
from survey_service.surveys.service import round_record, round_records, round_status

STATUS_LABELS = {"pending": "未开始", "open": "进行中", "closed": "已结束"}


class RoundView(msgspec.Struct, kw_only=True, frozen=True):
    """A round as console pages show it: plain values, times in the county's zone."""

    id: int
    title: str
    region: str
    resident_population: int
    opens_at: str
    closes_at: str
    opens_at_input: str  # for <input type=datetime-local>
    closes_at_input: str
    target: float  # a fraction, as every setting is kept
    confidence_level: float
    target_text: str  # as shown: "85%"
    confidence_level_text: str
    design: str
    design_label: str
    group_weights: dict[str, float]
    questionnaires: dict[str, str]
    county_populations: dict[str, int]
    status: str
    status_label: str
    editable: bool
    school_count: int
    link_count: int
    exported_at: str | None = None  # when its results were first exported for the inspection file
    demo: bool = False  # the demo round: its answers are simulated (演示数据)
    access_code_groups: list[str] = []  # the groups whose answer page asks for a one-time access code
    national_weighting: str = "respondents"  # 迎检预判's group weighting (NATIONAL_WEIGHTING_LABELS)
    national_weighting_label: str = ""
    national_design_effect: float | None = 1.0  # None: each group's design effect in this round


def _view(record: RoundRecord, zone: ZoneInfo, schools: int, links: int) -> RoundView:
    status = round_status(record.opens_at, record.closes_at)
    opens_at, closes_at = record.opens_at.astimezone(zone), record.closes_at.astimezone(zone)
    return RoundView(
        id=record.id,
        title=record.title,
        region=record.region,
        resident_population=record.resident_population,
        opens_at=opens_at.strftime("%Y-%m-%d %H:%M"),
        closes_at=closes_at.strftime("%Y-%m-%d %H:%M"),
        opens_at_input=opens_at.strftime("%Y-%m-%dT%H:%M"),
        closes_at_input=closes_at.strftime("%Y-%m-%dT%H:%M"),
        target=record.target,
        confidence_level=record.confidence_level,
        target_text=f"{percent_text(record.target)}%",
        confidence_level_text=f"{percent_text(record.confidence_level)}%",
        design=record.design,
        design_label=DESIGN_LABELS.get(record.design, record.design),
        group_weights={g.value: w for g, w in record.group_weights.items()},
        questionnaires={g.value: q for g, q in record.questionnaires.items()},
        county_populations={g.value: n for g, n in record.county_populations.items()},
        status=status,
        status_label=STATUS_LABELS[status],
        editable=status == "pending",
        school_count=schools,
        link_count=links,
        exported_at=record.exported_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if record.exported_at else None,
        demo=record.demo,
        access_code_groups=[g.value for g in record.access_code_groups],
        national_weighting=record.national_weighting,
        national_weighting_label=NATIONAL_WEIGHTING_LABELS.get(record.national_weighting, record.national_weighting),
        national_design_effect=record.national_design_effect,
    )


async def _views(records: list[RoundRecord], zone: ZoneInfo) -> list[RoundView]:
    ids = [record.id for record in records]
    schools, links = await school_counts(ids), await link_counts(ids)
    return [_view(record, zone, schools.get(record.id, 0), links.get(record.id, 0)) for record in records]


async def visible_rounds(user: CurrentUser, zone: ZoneInfo) -> list[RoundView]:
    """Every round for the bureau; for an operator, the rounds whose roster has its school."""
    ids = None if user.is_bureau else await rounds_with_school(user.school_code or "")
    return await _views(await round_records(ids), zone)


async def get_round(survey_id: int, zone: ZoneInfo) -> RoundView:
    return (await _views([await round_record(survey_id)], zone))[0]
