"""The returned questionnaires (答卷): one anonymous row each."""

from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from survey_service.distribution.tables import Link
from survey_service.schools.tables import School
from survey_service.surveys.tables import Survey


class Response(Table):
    """One anonymous questionnaire as returned. Nothing here identifies a person."""

    id: Serial  # added by Piccolo; declared for the type checker only
    # Indexed by round alone: reports read the tallies, not these rows, and an index on (survey)
    # grows at its end as ids rise instead of touching a random page per answer.
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
    # Why the bureau excluded it after review (a review.service.ExclusionReason); empty while valid.
    exclusion = Varchar(length=32, default="")
    # Why the bureau kept a flagged answer after review (a review.service.KeepReason); empty until
    # then, and for an excluded answer. A flagged answer with neither counts as 待审核.
    kept = Varchar(length=32, default="")
    # Quality flags set when stored, comma-separated (see respond/quality.py); flagged answers
    # are kept and counted, never silently dropped.
    flags = Varchar(length=100, default="")
    # Salted hashes (per round) of the device cookie, the network address and the user agent;
    # `survey-service purge` blanks them after a round.
    device_hash = Varchar(length=32, null=True, default=None)
    network_hash = Varchar(length=32, null=True, default=None)
    agent_hash = Varchar(length=32, null=True, default=None)
    # The keyed hash of the one-time access code it was admitted with (distribution/access_codes.py),
    # for groups that need one; unique (INDEXES): each code admits exactly one stored answer.
    access_code_hash = Varchar(length=32, null=True, default=None)
    # Where the answer came from: "" answered online (the answer page or the API), "wjx" imported
    # from a 问卷星 export, "paper" a paper questionnaire entered in the console (respond.sources).
    source = Varchar(length=16, default="")
    # Tamper evidence: SHA-256 of this response's content, and of the previous chain hash with it.
    content_hash = Varchar(length=64, default="")
    chain_hash = Varchar(length=64, default="")


# Indexes no column declaration can say (several columns; a partial index; piccolo's Unique
# constraint is added with ALTER TABLE, which SQLite lacks), as the statements that create them.
# Each app's initial migration creates its table module's INDEXES as written (a copy: a migration
# never imports live code), and tests/db/test_schema.py holds a migrated database against them.
# The hash leads: a query by round alone must not pick these over the (survey) index. The ledger
# reads a network address's recent answers (cookie-less bursts, new devices churning) by
# response_churn, which replaced response_network (answers without a device cookie only).
INDEXES = {
    "response_device": "CREATE INDEX response_device ON response (device_hash, survey)",
    "response_churn": "CREATE INDEX response_churn ON response (network_hash, survey, submitted_at)",
    # The database itself refuses a second answer with one access code, whichever worker sends it.
    "response_access_code": "CREATE UNIQUE INDEX response_access_code ON response (access_code_hash) "
    "WHERE access_code_hash IS NOT NULL",
}
