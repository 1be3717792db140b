from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
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


class AccessCode(Table):
    """A one-time access code (访问码) for a link whose group the round has asked codes of (by default
    校长 and 人大代表/政协委员): only its keyed hash is kept (distribution/access_codes.py); the code
    itself exists on the printed sheet alone. A code is used once an answer stores its hash
    (respond.tables.Response.access_code_hash, unique there)."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey, index=True)
    link = ForeignKey(references=Link, index=True)
    code_hash = Varchar(length=32, unique=True)
    # Codes generated together (one sheet) share a batch number, counted per round from 1.
    batch = Integer(default=0)
    issued_at = Timestamptz()
    # Voided by the bureau (a lost sheet): refused like an unknown code; a used code stays used.
    voided = Boolean(default=False)
