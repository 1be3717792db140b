"""乌恰县 as the seeds describe it: 20 schools (18 小学, 2 初中), 9,589 students (7,130 / 2,459),
1,021 专任教师 (803 / 218). How they spread over the schools is invented but plausible: the town
schools are large, the village schools small."""

from __future__ import annotations

from analysis.planning import largest_remainder
from survey_service.schools.schemas import SchoolSpec
from survey_service.schools.tables import Location, Stage

REGION = "新疆克孜勒苏柯尔克孜自治州乌恰县"
RESIDENT_POPULATION = 72_000
DEPUTIES = 236  # county 人大代表 and 政协委员

# (code, name, stage, location, relative size)
_SCHOOLS = [
    ("WQ01", "乌恰县第一小学", Stage.primary, Location.urban, 30),
    ("WQ02", "乌恰县第二小学", Stage.primary, Location.urban, 26),
    ("WQ03", "乌恰县第三小学", Stage.primary, Location.urban, 22),
    ("WQ04", "乌恰县第四小学", Stage.primary, Location.urban, 14),
    ("WQ05", "乌恰镇中心小学", Stage.primary, Location.town, 12),
    ("WQ06", "康苏镇中心小学", Stage.primary, Location.town, 8),
    ("WQ07", "巴音库鲁提镇中心小学", Stage.primary, Location.town, 7),
    ("WQ08", "巴音库鲁提镇克孜勒阿根村小学", Stage.primary, Location.rural, 3),
    ("WQ09", "吉根乡小学", Stage.primary, Location.rural, 4),
    ("WQ10", "乌鲁克恰提乡小学", Stage.primary, Location.rural, 5),
    ("WQ11", "乌恰镇乔尔波村小学", Stage.primary, Location.rural, 2),
    ("WQ12", "黑孜苇乡小学", Stage.primary, Location.rural, 5),
    ("WQ13", "膘尔托阔依乡小学", Stage.primary, Location.rural, 4),
    ("WQ14", "托云乡小学", Stage.primary, Location.rural, 3),
    ("WQ15", "波斯坦铁列克乡小学", Stage.primary, Location.rural, 4),
    ("WQ16", "铁列克乡小学", Stage.primary, Location.rural, 2),
    ("WQ17", "吾合沙鲁乡小学", Stage.primary, Location.rural, 3),
    ("WQ18", "康苏镇库尔干村小学", Stage.primary, Location.rural, 2),
    ("WQ19", "乌恰县实验中学", Stage.junior, Location.urban, 70),
    ("WQ20", "黑孜苇乡中学", Stage.junior, Location.rural, 30),
]
_TOTALS = {Stage.primary: (7_130, 803), Stage.junior: (2_459, 218)}


def demo_schools() -> list[SchoolSpec]:
    schools: list[SchoolSpec] = []
    for stage, (students_total, teachers_total) in _TOTALS.items():
        rows = [row for row in _SCHOOLS if row[2] is stage]
        sizes = [row[4] for row in rows]
        students = largest_remainder(students_total, sizes)
        teachers = largest_remainder(teachers_total, sizes)
        for (code, name, _, location, _), n_students, n_teachers in zip(rows, students, teachers):
            schools.append(
                SchoolSpec(
                    code=code,
                    name=name,
                    stage=stage,
                    location=location,
                    students=n_students,
                    # Households: siblings share a household.
                    parents=round(n_students * 0.82),
                    teachers=n_teachers,
                    # 校长 and 副校长: one in a village school, up to three in a large one.
                    principals=1 + (n_students >= 300) + (n_students >= 800),
                )
            )
    return sorted(schools, key=lambda s: s.code)
