"""The quota plan of a round (analysis.plan_quotas) and the answers received against it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from analysis import national_sample_size, plan_quotas
from survey_service.core.groups import COUNTY_GROUPS, GROUP_LABELS, SCHOOL_GROUPS, Group
from survey_service.ledger import tally
from survey_service.results.design import round_design, round_roster


class Cell(msgspec.Struct, kw_only=True, frozen=True):
    group: str
    group_label: str
    population: int | None
    quota: int
    returned: int
    valid: int

    @property
    def behind(self) -> bool:
        return self.valid < self.quota


class SchoolProgress(msgspec.Struct, kw_only=True, frozen=True):
    code: str  # "" for the county-level groups
    name: str
    cells: list[Cell]
    quota: int
    returned: int
    valid: int
    valid_rate: float | None
    last_answer: str | None
    behind: bool


class RoundProgress(msgspec.Struct, kw_only=True, frozen=True):
    sample_size: int  # what the national rule asks for
    planned: int
    group_targets: dict[str, int]
    groups: list[tuple[str, str]]  # (group, label) columns
    rows: list[SchoolProgress]
    returned: int
    valid: int
    valid_rate: float | None


async def round_progress(survey_id: int, zone: ZoneInfo, school_code: str | None = None) -> RoundProgress:
    """Quota and answers per school × group; only `school_code`'s row when given (a school's own view)."""
    record, schools = await round_roster(survey_id)
    design = round_design(record, schools)
    # Quotas only for the strata with a population: a group nobody counted (a county-level group whose
    # total was left blank, a school's group of 0) gets none, rather than an equal share of the sample.
    populated = msgspec.structs.replace(design, strata=[s for s in design.strata if s.population])
    plan = plan_quotas(populated, national_sample_size(record.resident_population))
    quotas = {(q.school, q.group): q for q in plan.quotas}
    counts = await _answer_counts(survey_id)
    code_of = {s.id: s.code for s in schools}
    answers = {(None if school is None else code_of.get(school), group): row for (school, group), row in counts.items()}

    def row(code: str | None, name: str, groups: tuple[Group, ...]) -> SchoolProgress:
        cells = []
        for g in groups:
            quota = quotas.get((code, g))
            got = answers.get((code, g.value), {})
            cells.append(
                Cell(
                    group=g.value,
                    group_label=GROUP_LABELS[g],
                    population=quota.population if quota else 0,
                    quota=quota.quota if quota else 0,
                    returned=got.get("returned", 0),
                    valid=got.get("valid", 0),
                )
            )
        returned, valid = sum(c.returned for c in cells), sum(c.valid for c in cells)
        last = max((answers[(code, g.value)]["last"] for g in groups if (code, g.value) in answers), default=None)
        return SchoolProgress(
            code=code or "",
            name=name,
            cells=cells,
            quota=sum(c.quota for c in cells),
            returned=returned,
            valid=valid,
            valid_rate=valid / returned if returned else None,
            last_answer=_local(last, zone),
            behind=any(c.behind for c in cells),
        )

    rows = [row(s.code, s.name, SCHOOL_GROUPS) for s in schools if school_code in (None, s.code)]
    if school_code is None:
        rows.append(row(None, "全县（县级群体）", COUNTY_GROUPS))
    returned, valid = sum(r.returned for r in rows), sum(r.valid for r in rows)
    return RoundProgress(
        sample_size=plan.total,
        planned=plan.planned,
        group_targets=plan.groups,
        groups=[(g.value, GROUP_LABELS[g]) for g in SCHOOL_GROUPS],
        rows=rows,
        returned=returned,
        valid=valid,
        valid_rate=valid / returned if returned else None,
    )


async def _answer_counts(survey_id: int) -> dict[tuple[int | None, str], dict]:
    """Returned and valid answers and the latest arrival per (school id, group), from the round's
    tallies (ledger/tally.py): a few rows however many answers the round holds."""
    counts: dict[tuple[int | None, str], dict] = {}
    for school, group, _, _, kept in await tally.stored_by_link(survey_id):
        cell = counts.setdefault((school, group), {"returned": 0, "valid": 0, "last": None})
        cell["returned"] += kept.returned
        cell["valid"] += kept.valid
        last = datetime.fromisoformat(kept.last_at) if kept.last_at else None
        if last is not None and (cell["last"] is None or last > cell["last"]):
            cell["last"] = last
    return counts


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).strftime("%m-%d %H:%M") if moment else None
