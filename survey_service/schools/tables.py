import enum

from piccolo.columns import ForeignKey, Integer, Serial, Varchar
from piccolo.table import Table

from survey_service.surveys.tables import Survey


class Stage(enum.StrEnum):
    primary = "小学"
    junior = "初中"
    nine_year = "九年一贯制"
    complete = "完全中学"


class Location(enum.StrEnum):
    urban = "城区"
    town = "镇区"
    rural = "乡村"


class School(Table):
    """One school of a round's roster; its counts are the stratum populations N_h."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey)
    code = Varchar(length=32)
    name = Varchar(length=100)
    stage = Varchar(length=16, choices=Stage)
    location = Varchar(length=8, choices=Location)
    students = Integer(default=0)
    parents = Integer(default=0)  # households
    teachers = Integer(default=0)
    principals = Integer(default=0)


# Indexes no column declaration can say, as the statements that create them (see respond/tables.py).
# A code names one school in a round (the roster import relies on it).
INDEXES = {
    "school_survey_code": "CREATE UNIQUE INDEX school_survey_code ON school (survey, code)",
}
