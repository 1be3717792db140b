from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from analysis.design import DEFAULT_CONFIDENCE_LEVEL, DEFAULT_TARGET, Settings
from survey_service.core.groups import Group

# How the variance is computed (analysis.Settings.design), as the console names it.
DESIGN_LABELS = {"strata": "全部学校参加（学校作为分层）", "clusters": "抽样部分学校（学校作为整群）"}
# How 迎检预判 weighs the national sample's groups (analysis.Settings.national_weighting), as the console names it.
NATIONAL_WEIGHTING_LABELS = {"respondents": "按答卷人数（默认）", "round": "按本轮群体权重"}
DEFAULT_NATIONAL_WEIGHTING: str = Settings().national_weighting
DEFAULT_NATIONAL_DESIGN_EFFECT: float | None = Settings().national_design_effect
# 迎检预判's settings change no answer and no figure of the round, only the forecast's assumption: the bureau
# may change them at any time (surveys/national_settings.py), never through the round form.
NATIONAL_SETTINGS = ("national_weighting", "national_design_effect")


class RoundSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the bureau sets when it creates or edits a round. Its values are checked in one place,
    surveys/validation.py (the service runs it on every create and update), not here."""

    title: str
    region: str
    resident_population: int = 0  # 常住人口
    opens_at: datetime
    closes_at: datetime
    target: float = DEFAULT_TARGET  # the 社会认可度 to reach, a fraction
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL  # a fraction
    # strata: every school takes part; clusters: only a sample of the county's schools does (DESIGN_LABELS).
    design: str = "strata"
    group_weights: dict[Group, float] = {}  # empty: the default rule
    questionnaires: dict[Group, str] = {}  # a group not named answers its default questionnaire
    county_populations: dict[Group, int] = {}
    # 迎检预判: the national figure weighs groups by respondents or by this round's group weights
    # (NATIONAL_WEIGHTING_LABELS); the national sample's design effect (None: each group's in this round).
    national_weighting: str = DEFAULT_NATIONAL_WEIGHTING
    national_design_effect: float | None = DEFAULT_NATIONAL_DESIGN_EFFECT


class RoundRecord(RoundSpec, kw_only=True):
    """A stored round: its settings as saved (every group's questionnaire named)."""

    id: int
    created_at: datetime | None = None
    demo: bool = False
    exported_at: datetime | None = None  # results first exported for the inspection file, after it closed
    # The groups whose answer page asks for a one-time access code first (Survey.access_code_groups).
    access_code_groups: list[Group] = msgspec.field(default_factory=lambda: [Group.principal, Group.deputy])
    previous_round: int | None = None  # 对比轮次: the earlier round its results are compared with


class ChangeAction(enum.StrEnum):
    """What a round change did (RoundChange.action); CHANGE_LABELS names it in Chinese."""

    open = "open"
    close = "close"
    extend = "extend"
    reopen = "reopen"
    roster_add = "roster_add"
    roster_edit = "roster_edit"
    export = "export"
    settings = "settings"
    access_codes = "access_codes"
    compare = "compare"
    national = "national"  # 迎检预判's assumptions (surveys/national_settings.py)
    import_answers = "import"  # answers brought in from elsewhere (a 问卷星 export)


CHANGE_LABELS = {
    ChangeAction.open: "开始调查",
    ChangeAction.close: "结束调查",
    ChangeAction.extend: "延长结束时间",
    ChangeAction.reopen: "重新开放",
    ChangeAction.roster_add: "添加学校",
    ChangeAction.roster_edit: "修改学校信息",
    ChangeAction.export: "导出迎检材料",
    ChangeAction.settings: "修改设置",
    ChangeAction.access_codes: "访问码",
    ChangeAction.compare: "对比轮次",
    ChangeAction.national: "迎检预判设置",
    ChangeAction.import_answers: "导入答卷",
}


class RoundChangeRecord(msgspec.Struct, kw_only=True, frozen=True):
    """One entry of a round's change log: who, when, what, why."""

    action: ChangeAction
    details: str
    reason: str
    actor: str
    changed_at: datetime

    @property
    def action_label(self) -> str:
        return CHANGE_LABELS[self.action]


class RoundSummary(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    title: str
    region: str
    opens_at: datetime
    closes_at: datetime
