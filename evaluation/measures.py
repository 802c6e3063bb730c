"""The measures an indicator's formula may name: what the system can compute honestly from its own data.

Each measure is "higher is better" (so a curve's target is never below its floor). Values are ratios
(0.8 = 80 %), counts, a 1–5 rating or a 0–100 expert score. A measure with no data for an object (no
inspection yet, nothing required) is None: its indicator is left out and the other weights count in full.

The definitions below are the contract between the SQL of `evaluation.scoring` and the pure-Python
`evaluation.reference`; a test holds the two equal on a generated data set.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from core.models import COUNTY_LEVEL_AND_BELOW


@dataclass(frozen=True)
class Measure:
    code: str
    level: str  # "project" or "pairing"
    label: Promise
    definition: Promise
    unit: str  # "ratio", "count", "rating", "score"
    #: Applies to some projects only (those handed over): where it has no value it is *not applicable* — left
    #: out of the coverage's weight as well as the score's — rather than missing data that lowers the coverage.
    optional: bool = False


PROJECT, PAIRING = "project", "pairing"

MEASURES: dict[str, Measure] = {
    m.code: m
    for m in [
        Measure(
            "on_time_completion",
            PROJECT,
            _("On-time completion"),
            _(
                "1 when finished (or, if unfinished, still) within the planned end; less by the share of the "
                "planned duration overrun, down to 0 at twice the planned duration."
            ),
            "ratio",
        ),
        Measure(
            "budget_adherence",
            PROJECT,
            _("Budget adherence"),
            _("1 when expenditure stays within the approved budget; less by the share overspent."),
            "ratio",
        ),
        Measure(
            "inspection_pass_rate",
            PROJECT,
            _("Inspection pass rate"),
            _("Passed inspections ÷ inspections."),
            "ratio",
        ),
        Measure(
            "rectification_closure",
            PROJECT,
            _("Rectifications closed on time"),
            _("Rectifications closed by their deadline ÷ rectifications closed or due by the run's date."),
            "ratio",
        ),
        Measure(
            "beneficiaries_reached",
            PROJECT,
            _("Beneficiaries reached"),
            _("Beneficiaries reached ÷ beneficiaries expected."),
            "ratio",
        ),
        Measure(
            "project_funds_delivery",
            PROJECT,
            _("Committed funds delivered"),
            _("Funds disbursed to the project ÷ funds committed to it."),
            "ratio",
        ),
        Measure(
            "recipient_satisfaction",
            PROJECT,
            _("Recipient satisfaction"),
            _("The mean of the recipient officers' ratings, 1 to 5."),
            "rating",
        ),
        Measure(
            "expert",
            PROJECT,
            _("Expert score"),
            _("The mean of the evaluators' scores (0–100) for this indicator."),
            "score",
        ),
        Measure(
            "assets_in_use",
            PROJECT,
            _("Handed-over asset still in use"),
            _(
                "For a project whose handover was confirmed at least 3 years before the end of the run's year: 1 "
                "when its latest operation report up to that year says in use or under-used, 0 when idle, closed "
                "or demolished. Not applicable — left out of the weight and of the coverage, not counted as "
                "missing data — for a project not handed over yet, handed over more recently, or not reported on."
            ),
            "ratio",
            optional=True,
        ),
        Measure(
            "running_costs_covered",
            PROJECT,
            _("Revenue covers running costs"),
            _(
                "For a handed-over project that earns revenue (flagged self-sustaining, or with revenue in its "
                "latest operation report up to the run's year): 1 when that report's revenue covers its operating "
                "and maintenance costs, else 0. Not applicable — left out of the weight and of the coverage — for "
                "any other project."
            ),
            "ratio",
            optional=True,
        ),
        Measure(
            "mandate_fulfilment",
            PAIRING,
            _("Mandate fulfilment"),
            _("Funds received in the year ÷ funds required by the year's mandate."),
            "ratio",
        ),
        Measure(
            "funds_delivery",
            PAIRING,
            _("Committed funds delivered"),
            _("Funds disbursed in the year ÷ funds committed in the year."),
            "ratio",
        ),
        Measure(
            "county_share",
            PAIRING,
            _("Share to county level and below"),
            _(
                "Disbursements in the year to projects at county level and below (a county, township or XPCC "
                "division; a project without a location at its recipient region's level) ÷ all disbursements "
                "in the year, to a project or not, as the programmes publish it."
            ),
            "ratio",
        ),
        Measure(
            "livelihood_share",
            PAIRING,
            _("Share to livelihood"),
            _(
                "Disbursements in the year to livelihood projects ÷ all disbursements in the year, to a project "
                "or not, as the programmes publish it."
            ),
            "ratio",
        ),
        Measure(
            "self_sustaining_share",
            PAIRING,
            _("Share to self-sustaining projects"),
            _(
                "On approved budgets (not a published share): approved budget of the scored projects that are "
                "self-sustaining (造血) ÷ that of all the scored projects."
            ),
            "ratio",
        ),
        Measure(
            "personnel_vs_quota",
            PAIRING,
            _("People deployed vs quota"),
            _("Headcount of deployments active in the year ÷ the mandate's personnel quota."),
            "ratio",
        ),
        Measure(
            "people_trained",
            PAIRING,
            _("People trained"),
            _("People trained in trainings held in the year."),
            "count",
        ),
        Measure(
            "assets_in_use_share",
            PAIRING,
            _("Handed-over assets still in use"),
            _(
                "Of the pairing's projects whose handover was confirmed at least 3 years before the end of the "
                "year and that have an operation report up to that year: the share whose latest report says in "
                "use or under-used (the hematopoiesis test: still running years after acceptance)."
            ),
            "ratio",
        ),
        Measure(
            "running_costs_covered_share",
            PAIRING,
            _("Self-sustaining projects covering their running costs"),
            _(
                "Of the pairing's handed-over projects that earn revenue (flagged self-sustaining, or with revenue "
                "in their latest operation report up to the year): the share whose revenue covers their operating "
                "and maintenance costs."
            ),
            "ratio",
        ),
        Measure(
            "project_scores",
            PAIRING,
            _("Project scores"),
            _("The mean of the scored projects' scores, weighted by approved budget."),
            "score",
        ),
    ]
}

#: How many years after its handover a project's asset is asked to be still in use ("assets_in_use"). Measures
#: take no parameters (an indicator names its formula, its curve and its weight), so N is this one constant,
#: stated in the measures' definitions; a framework that wants another horizon needs another measure.
ASSETS_IN_USE_YEARS = 3
#: The operation statuses in which an asset counts as in use (projects.models.OPERATING_STATUSES).
IN_USE_STATUSES = ("in_use", "under_used")

#: Project states whose projects a run scores: approved onwards, not rejected or cancelled. A run of a year
#: scores the programme's portfolio as it stands: every such project planned to start by the end of that year
#: (an annual assessment looks at the projects still under way as well as the year's new ones).
SCORED_STATES = ("approved", "in_construction", "suspended", "completed", "accepted", "evaluated")
#: States in which a project's score is final.
FINAL_STATES = ("accepted", "evaluated")
#: Kept for `bench/evaluation.py`, which imports it from here; evaluation's own code reads
#: `core.models.COUNTY_LEVEL_AND_BELOW`, the one definition.
COUNTY_LEVELS = COUNTY_LEVEL_AND_BELOW

#: What the shares to county level and below and to livelihood are shares of: the year's disbursements (not
#: approved budgets), as the programmes publish their "two 80 %s". The scorecard page and API say so.
SHARE_BASIS = "year_disbursements"
SHARE_BASIS_NOTE = _(
    "Shares to county level and below and to livelihood: of the year's disbursements, as the programmes publish them."
)


def formula_choices(level: str | None = None) -> list[tuple[str, str]]:
    return [(m.code, str(m.label)) for m in MEASURES.values() if level is None or m.level == level]
