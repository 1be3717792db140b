"""The ledger's read model: running tallies of the responses, per link and questionnaire version."""

from piccolo.columns import BigInt, DoublePrecision, ForeignKey, Integer, Text, Varchar
from piccolo.table import Table

from survey_service.distribution.tables import Link
from survey_service.surveys.tables import Survey


class ResponseTally(Table):
    """Running totals of the responses of one link and questionnaire version (see ledger/tally.py),
    kept in the transaction that changes them."""

    survey = ForeignKey(references=Survey)
    link = ForeignKey(references=Link)
    questionnaire_id = Varchar(length=32)
    questionnaire_version = Varchar(length=32)
    returned = Integer(default=0)
    n = Integer(default=0)
    sum_y = DoublePrecision(default=0.0)
    sum_y2 = DoublePrecision(default=0.0)
    n_score = Integer(default=0)
    sum_score = DoublePrecision(default=0.0)
    sum_score2 = DoublePrecision(default=0.0)
    # JSON: {reason or flag mark: answers}
    validity = Text(default="{}")
    # JSON: per item position {choices code: answers}
    choices = Text(default="[]")
    # The latest answer's arrival, ISO 8601 UTC to the microsecond (text order is time order).
    last_at = Varchar(length=40, default="")
    # Random, new with every write by the response writer (0 after a rebuild): lets a writer trust
    # its own copy of a tally (tally.TallyCache) while nobody else has written it.
    revision = BigInt(default=0)


# Indexes no column declaration can say, as the statements that create them (see respond/tables.py).
# The writer's upsert (ON CONFLICT) needs exactly this key.
INDEXES = {
    "response_tally_key": "CREATE UNIQUE INDEX response_tally_key ON response_tally "
    "(survey, link, questionnaire_id, questionnaire_version)",
}
