from piccolo.columns import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from survey_service.respond.tables import Response
from survey_service.surveys.tables import Survey


class ReviewDecision(Table):
    """The audit log: one row per decision, never changed or deleted."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey, index=True)
    response = ForeignKey(references=Response)
    action = Varchar(length=16)  # exclude | reinstate
    reason = Varchar(length=32)  # an ExclusionReason, or "reinstated"
    note = Text()  # the written reason
    actor = Varchar(length=64)  # the console account's username
    decided_at = Timestamptz()
