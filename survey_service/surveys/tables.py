from piccolo.columns import JSON, Boolean, DoublePrecision, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from analysis.design import DEFAULT_CONFIDENCE_LEVEL, DEFAULT_TARGET
from survey_service.surveys.schemas import DEFAULT_NATIONAL_DESIGN_EFFECT, DEFAULT_NATIONAL_WEIGHTING


class Survey(Table):
    """A survey round (调查轮次)."""

    id: Serial  # added by Piccolo; declared for the type checker only
    title = Varchar(length=200)
    region = Varchar(length=100)
    resident_population = Integer(default=0)  # 常住人口
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    target = DoublePrecision(default=DEFAULT_TARGET)
    confidence_level = DoublePrecision(default=DEFAULT_CONFIDENCE_LEVEL)
    # strata: every school takes part (schools are strata); clusters: a sample of schools does.
    design = Varchar(length=16, default="strata")
    # {group: weight}; empty means the default rule (parents 0.5, the others share 0.5).
    group_weights = JSON(default={})
    # {group: questionnaire id}
    questionnaires = JSON(default={})
    # Populations of county-level groups, e.g. {"deputy": 180}; `public` has none.
    county_populations = JSON(default={})
    # 迎检预判: how the national figure weighs groups ("respondents" or "round"), and the national
    # sample's design effect (NULL: each group's design effect in this round, at least 1).
    national_weighting = Varchar(length=16, default=DEFAULT_NATIONAL_WEIGHTING)
    national_design_effect = DoublePrecision(null=True, default=DEFAULT_NATIONAL_DESIGN_EFFECT)
    created_at = Timestamptz()
    # The demo round (`survey-service demo`): its answers are simulated, and every page says so.
    demo = Boolean(default=False)
    # When its results were first exported for the inspection file (迎检材料) after it closed: the
    # console's report or workbook, or `survey-service report`. Reopening it then warns.
    exported_at = Timestamptz(null=True, default=None)
    # The groups whose answer page asks for a one-time access code (访问码) first, as a JSON list of
    # group values; the bureau may change it while the round is not closed.
    access_code_groups = JSON(default=["principal", "deputy"])
    # The earlier round of the same county its results are compared with (对比轮次: 与上一轮对比), chosen
    # by the bureau at any time (it changes no figure of this round); each choice is in the change log.
    previous_round = Integer(null=True, default=None)


class RoundChange(Table):
    """The round's change log: one row per change made to a round once set up (closed, extended,
    reopened, its roster corrected, its results exported), never changed or deleted."""

    id: Serial  # added by Piccolo; declared for the type checker only
    survey = ForeignKey(references=Survey, index=True)
    action = Varchar(length=16)  # a ChangeAction
    details = Text()  # what changed, in Chinese, as the round page lists it
    reason = Text(default="")  # the written reason (why)
    actor = Varchar(length=64)  # the console account's username, or the command line
    changed_at = Timestamptz()
