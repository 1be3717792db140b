"""The respondent groups (调查对象) and their Chinese names."""

from __future__ import annotations

import enum


class Group(enum.StrEnum):
    student = "student"
    parent = "parent"
    teacher = "teacher"
    principal = "principal"
    deputy = "deputy"  # 人大代表 and 政协委员
    public = "public"  # 其他群众


GROUP_LABELS: dict[Group, str] = {
    Group.student: "学生",
    Group.parent: "家长",
    Group.teacher: "教师",
    Group.principal: "校长",
    Group.deputy: "人大代表/政协委员",
    Group.public: "其他群众",
}

# Groups sampled inside each school (a school is a stratum); the others are county-level.
SCHOOL_GROUPS: tuple[Group, ...] = (Group.student, Group.parent, Group.teacher, Group.principal)
COUNTY_GROUPS: tuple[Group, ...] = (Group.deputy, Group.public)

# The questionnaire each group answers by default (national practice: 学生卷, 校长教师卷, 社会卷).
DEFAULT_QUESTIONNAIRES: dict[Group, str] = {
    Group.student: "student",
    Group.parent: "social",
    Group.teacher: "staff",
    Group.principal: "staff",
    Group.deputy: "social",
    Group.public: "social",
}
