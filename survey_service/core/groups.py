"""The respondent groups (调查对象) as the service shows and uses them: their Chinese names and the
questionnaire each answers by default. The groups themselves, and which are school-level or
county-level, are declared once in the analysis library."""

from __future__ import annotations

from analysis.design import COUNTY_GROUPS, GROUPS, SCHOOL_GROUPS, Group

__all__ = [
    "COUNTY_GROUPS",
    "DEFAULT_QUESTIONNAIRES",
    "GROUPS",
    "GROUP_LABELS",
    "OPERATOR_GROUPS",
    "OPERATOR_MIN_CELL",
    "SCHOOL_GROUPS",
    "Group",
]

GROUP_LABELS: dict[Group, str] = {
    Group.student: "学生",
    Group.parent: "家长",
    Group.teacher: "教师",
    Group.principal: "校长",
    Group.deputy: "人大代表/政协委员",
    Group.public: "其他群众",
}

# The questionnaire each group answers by default (national practice: 学生卷, 校长教师卷, 社会卷).
DEFAULT_QUESTIONNAIRES: dict[Group, str] = {
    Group.student: "student",
    Group.parent: "social",
    Group.teacher: "staff",
    Group.principal: "staff",
    Group.deputy: "social",
    Group.public: "social",
}

# What a school's operator (in practice its principal) may see of its own school: its students' and
# parents' figures and suggestions, each figure from at least OPERATOR_MIN_CELL answers. Never its
# teachers' or principals' (they answer about their own school and employer, and a school has one to
# three principals), nor anything that could single out fewer people. The bureau sees every group.
OPERATOR_GROUPS: tuple[Group, ...] = (Group.student, Group.parent)
OPERATOR_MIN_CELL = 10
