from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from survey_service.distribution.tables import Link
from survey_service.schools.tables import School
from survey_service.surveys.tables import Survey


class Response(Table):
    """One anonymous questionnaire as returned. Nothing here identifies a person."""

    survey = ForeignKey(references=Survey, index=True)
    link = ForeignKey(references=Link)
    # Copied from the link so that per-stratum aggregates need no join.
    school = ForeignKey(references=School, null=True)
    respondent_group = Varchar(length=16)
    questionnaire_id = Varchar(length=32)
    questionnaire_version = Varchar(length=32)
    answers = JSON()
    # y: the recognised share of the rated items answered (None when every answer was 不了解).
    recognition = DoublePrecision(null=True, default=None)
    # One character per questionnaire item, in file order: the chosen option's position in its
    # option list ("0", "1", …), "-" for no answer, "t" for text given. Lets reports count
    # item answers per stratum without decoding `answers`.
    choices = Varchar(length=64, default="")
    # The 0–100 mean score of the rated items answered.
    score = DoublePrecision(null=True, default=None)
    submitted_at = Timestamptz()
    seconds_taken = Integer(null=True, default=None)
    # From the signed form nonce: a double-clicked submit stores one response.
    nonce = Varchar(length=64, unique=True)
    valid = Boolean(default=True)
