from piccolo.columns import ForeignKey, Serial, Text, Varchar
from piccolo.table import Table

from survey_service.core.groups import Group
from survey_service.schools.tables import School
from survey_service.surveys.tables import Survey


class Link(Table):
    """What a QR code opens: a round × school × group (school empty for county-level groups)."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey)
    school = ForeignKey(references=School, null=True)
    respondent_group = Varchar(length=16, choices=Group)
    token = Varchar(length=32, unique=True, index=True)


class KitLetter(Table):
    """The 致家长的一封信 a round's bureau prints on every school's QR page."""

    survey = ForeignKey(references=Survey, unique=True)
    text = Text()
