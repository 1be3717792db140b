from piccolo.columns import JSON, BigInt, Boolean, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from survey_service.distribution.tables import Link
from survey_service.schools.tables import School
from survey_service.surveys.tables import Survey


class Response(Table):
    """One anonymous questionnaire as returned. Nothing here identifies a person."""

    # Indexed by round alone (response_survey): reports read the tallies, not these rows.
    survey = ForeignKey(references=Survey)
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
    # Why the bureau excluded it after review (a review.service.ExclusionReason); empty while valid.
    exclusion = Varchar(length=32, default="")
    # Quality flags set when stored, comma-separated (see respond/quality.py); flagged answers
    # are kept and counted, never silently dropped.
    flags = Varchar(length=100, default="")
    # Salted hashes (per round) of the device cookie, the network address and the user agent;
    # `survey-service purge` blanks them after a round.
    device_hash = Varchar(length=32, null=True, default=None)
    network_hash = Varchar(length=32, null=True, default=None)
    agent_hash = Varchar(length=32, null=True, default=None)
    # Tamper evidence: SHA-256 of this response's content, and of the previous chain hash with it.
    content_hash = Varchar(length=64, default="")
    chain_hash = Varchar(length=64, default="")


class ResponseTally(Table):
    """Running totals of the responses of one link and questionnaire version (see respond/tally.py),
    kept in the transaction that changes them; unique on (survey, link, questionnaire_id,
    questionnaire_version)."""

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
