"""Programmes, pairings and their breakdown, fiscal revenues and mandates, and the flows of money and people.

Money is `Decimal` in yuan (18 digits, 2 places). Shares and rates are fractions (0.01 = 1 %).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from core.models import ChoiceLabels, Region

FRACTION_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class Source(models.Model):
    """A publication that reference data rests on: shown to officials as its title in its own language (inside
    `<cite lang>`) and its date; the working notes about it stay in the code."""

    key = models.SlugField(_("key"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=300)
    language = models.CharField(_("language of the title"), max_length=8, default="zh")
    publisher = models.CharField(_("publisher"), max_length=120, blank=True)
    published = models.CharField(
        _("published"),
        max_length=10,
        blank=True,
        help_text=_("ISO date, as precise as known: 2008-06-18, 2010-11, 2010."),
    )
    url = models.URLField(_("address"), max_length=500, blank=True)
    is_mirror = models.BooleanField(
        _("mirror copy"), default=False, help_text=_("The address is a copy of the original.")
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return self.title


class Evidence(models.TextChoices):
    """How well a row of reference data is supported."""

    SOURCED = "sourced", _("Sourced")
    SECONDARY = "secondary", _("Secondary source")
    UNVERIFIED = "unverified", _("Unverified")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class ProgramModel(models.TextChoices):
    BORDER_GOVERNANCE = "border_governance", _("Border governance")
    DISASTER_RESPONSE = "disaster_response", _("Disaster response")
    DEVELOPMENT = "development", _("Development")


class Program(models.Model):
    """A paired-assistance programme (Xizang since 1994, Wenchuan 2008–2010, Xinjiang from 2010)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    model = models.CharField(_("model"), max_length=24, choices=ProgramModel.choices)
    start_year = models.PositiveSmallIntegerField(_("start year"))
    end_year = models.PositiveSmallIntegerField(_("end year"), null=True, blank=True)
    policy_reference = models.CharField(_("policy reference"), max_length=300, blank=True)
    principles = models.TextField(_("principles"), blank=True)
    principles_en = models.TextField(_("principles (English)"), blank=True)
    lead_agency = models.ForeignKey(
        Organization, verbose_name=_("lead agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.TextField(_("source"), blank=True)
    sources = models.ManyToManyField(Source, verbose_name=_("sources"), blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_year", "code"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_year__isnull=True) | Q(end_year__gte=models.F("start_year")),
                name="program_years_in_order",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    # Labels for history entries about the programme's rule versions (not fields of the programme).
    history_labels = {
        "rule_version": _("rule version"),
        "basis": _("basis"),
        "rate": _("rate"),
        "fixed_amount": _("fixed amount"),
        "escalation": _("yearly escalation"),
        "escalation_years": _("escalation years"),
        "min_county_share": _("minimum share to county level and below"),
        "min_livelihood_share": _("minimum share to livelihood"),
        "effective_from_year": _("in force from"),
        "effective_to_year": _("in force until"),
        "organization": _("assisting party"),
        "is_unverified": _("unverified"),
    }

    @classmethod
    def history_display(cls, name: str, value: object) -> str | None:
        if name == "basis" and isinstance(value, str):
            return str(dict(FundingBasis.choices).get(value, value))
        return None

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    @property
    def display_principles(self) -> str:
        if (get_language() or "").startswith("en") and self.principles_en:
            return self.principles_en
        return self.principles


class FundingBasis(models.TextChoices):
    FISCAL_REVENUE = "fiscal_revenue", _("Share of prior-year fiscal revenue")
    FIXED = "fixed", _("Fixed amount")


class FundingRule(models.Model):
    """One version of a programme's funding rule. Rules are never edited: a change is a new version, so a
    mandate keeps the rule it was computed with."""

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="rules")
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("assisting party"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("A rate set for one assisting party; it overrides the programme's rule for that party."),
    )
    version = models.PositiveSmallIntegerField(_("version"))
    basis = models.CharField(_("basis"), max_length=16, choices=FundingBasis.choices)
    rate = models.DecimalField(
        _("rate"), null=True, blank=True, max_digits=7, decimal_places=6, validators=FRACTION_VALIDATORS
    )
    fixed_amount = models.DecimalField(
        _("fixed amount"),
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        max_digits=18,
        decimal_places=2,
    )
    escalation = models.DecimalField(
        _("yearly escalation"),
        null=True,
        blank=True,
        help_text=_("e.g. 0.08 for 8 % a year"),
        max_digits=7,
        decimal_places=6,
        validators=FRACTION_VALIDATORS,
    )
    escalation_years = models.PositiveSmallIntegerField(
        _("escalation years"),
        null=True,
        blank=True,
        help_text=_("How many years after the first the escalation applies (empty: every year)."),
    )
    min_county_share = models.DecimalField(
        _("minimum share to county level and below"),
        null=True,
        blank=True,
        max_digits=7,
        decimal_places=6,
        validators=FRACTION_VALIDATORS,
    )
    min_livelihood_share = models.DecimalField(
        _("minimum share to livelihood"),
        null=True,
        blank=True,
        max_digits=7,
        decimal_places=6,
        validators=FRACTION_VALIDATORS,
    )
    effective_from_year = models.PositiveSmallIntegerField(
        _("in force from"),
        null=True,
        blank=True,
        help_text=_("The first year this version applies to (empty: from the programme's start)."),
    )
    effective_to_year = models.PositiveSmallIntegerField(
        _("in force until"),
        null=True,
        blank=True,
        help_text=_("The last year this version applies to (empty: until a later version or the programme's end)."),
    )
    is_unverified = models.BooleanField(
        _("unverified"),
        default=False,
        help_text=_("No source gives this rate or base year: mandates computed with it are flagged."),
    )
    reason = models.TextField(_("reason"), blank=True)
    source = models.TextField(_("source"), blank=True)
    sources = models.ManyToManyField(Source, verbose_name=_("sources"), blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["program", "-version"]
        verbose_name = _("funding rule")
        verbose_name_plural = _("funding rules")
        constraints = [
            models.UniqueConstraint(fields=["program", "version"], name="unique_rule_version"),
            models.CheckConstraint(
                condition=(Q(basis="fiscal_revenue") & Q(rate__isnull=False))
                | (Q(basis="fixed") & Q(fixed_amount__isnull=False)),
                name="rule_basis_has_its_amount",
            ),
            models.CheckConstraint(
                condition=Q(effective_to_year__isnull=True)
                | Q(effective_from_year__isnull=True)
                | Q(effective_to_year__gte=models.F("effective_from_year")),
                name="rule_years_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} v{self.version}"

    def applies_in(self, year: int) -> bool:
        first = self.effective_from_year or self.program.start_year
        return first <= year and (self.effective_to_year is None or year <= self.effective_to_year)

    @property
    def first_year(self) -> int:
        """The first year the version applies to: escalation counts from here."""
        return self.effective_from_year or self.program.start_year


class ContractingMode(models.TextChoices):
    DIAGONAL = "diagonal", _("Diagonal")
    DIRECT = "direct", _("Direct")


class PairingStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("pairing status", "Active")
    ENDED = "ended", pgettext_lazy("pairing status", "Ended")


class Pairing(ChoiceLabels, models.Model):
    """An assisting organization paired with a recipient region under a programme. A province's pairing may
    be broken down into children: its cities paired with parts of the recipient region."""

    program = models.ForeignKey(Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="pairings")
    assisting_organization = models.ForeignKey(
        Organization, verbose_name=_("assisting organization"), on_delete=models.PROTECT, related_name="pairings"
    )
    recipient_region = models.ForeignKey(
        Region, verbose_name=_("recipient region"), on_delete=models.PROTECT, related_name="pairings"
    )
    contracting_mode = models.CharField(_("contracting mode"), max_length=12, choices=ContractingMode.choices)
    mode_overridden = models.BooleanField(_("mode set by hand"), default=False)
    mode_reason = models.TextField(_("reason for the mode"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent pairing"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    start_date = models.DateField(_("start date"))
    start_precision = models.CharField(
        _("start date known to"),
        max_length=6,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        help_text=_("Where a source gives only the month or year, the date is its first day and this says so."),
    )
    end_date = models.DateField(_("end date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=PairingStatus.choices, default=PairingStatus.ACTIVE)
    evidence = models.CharField(_("evidence"), max_length=12, choices=Evidence.choices, default=Evidence.SOURCED)
    covers_unsourced = models.BooleanField(
        _("counties not sourced"),
        default=False,
        help_text=_(
            "A whole-prefecture pairing recorded only because the party's counties are not sourced: it claims none "
            "of the prefecture's counties."
        ),
    )
    mandate_from_rule = models.BooleanField(
        _("mandate from the programme's rule"),
        default=True,
        help_text=_(
            "Off where the programme's rule gives this pairing no share (its party's share is counted under "
            "another pairing); its mandates are then set by hand."
        ),
    )
    source = models.TextField(_("source"), blank=True)
    sources = models.ManyToManyField(Source, verbose_name=_("sources"), blank=True, related_name="+")
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["program", "assisting_organization__name", "recipient_region__code"]
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        constraints = [
            # The database holds the part of the invariant that one row can tell: one active claiming pairing per
            # (programme, region). The rest — a whole-prefecture pairing covers its counties, so a county pairing
            # inside it is refused — is checked by `services.pairing_create` under the programme's row lock. A
            # prefecture pairing whose counties are not sourced claims nothing, so several may stand side by side.
            models.UniqueConstraint(
                fields=["program", "recipient_region"],
                condition=Q(status="active", covers_unsourced=False),
                name="one_active_pairing_per_recipient",
                violation_error_message=_("This region already has an active pairing in this programme."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="pairing_dates_in_order",
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="pairing_not_its_own_parent"),
        ]
        indexes = [models.Index(fields=["status", "program"])]

    def __str__(self) -> str:
        return f"{self.assisting_organization} → {self.recipient_region}"

    # A pairing's history also tells of its flows, people and mandates, whose fields the pairing does not have.
    history_labels = {
        "kind": _("kind"),
        "amount": _("amount"),
        "date": _("date"),
        "source": _("source of funds"),
        "headcount": _("headcount"),
        "topic": _("topic"),
        "people_trained": _("people trained"),
        "year": _("year"),
        "funds_required": _("funds required"),
    }

    @classmethod
    def history_display(cls, name: str, value: object) -> str | None:
        """A pairing's history also tells of its flows and people: show their codes and sums as people read them."""
        from core.money import format_cny

        labels = {
            "kind": {**dict(FlowKind.choices), **dict(DeploymentKind.choices)},
            "source": dict(FlowSource.choices),
        }
        if name in labels and isinstance(value, str):
            return str(labels[name].get(value, value))
        if name == "amount" and value is not None:
            return format_cny(str(value))
        return None

    @property
    def is_active(self) -> bool:
        return self.status == PairingStatus.ACTIVE

    @property
    def start_known(self) -> str:
        """The start date as precisely as a source gives it: "1994", "2002-06" or "2010-03-30"."""
        iso = self.start_date.isoformat()
        return {DatePrecision.YEAR: iso[:4], DatePrecision.MONTH: iso[:7]}.get(self.start_precision, iso)  # type: ignore[call-overload]

    @property
    def is_unverified(self) -> bool:
        """Shown with a flag: the pairing itself is unverified, or its counties are not sourced."""
        return self.evidence == Evidence.UNVERIFIED or self.covers_unsourced


class FiscalRevenue(models.Model):
    """An organization's general public budget revenue for a year (the basis of next year's mandate)."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="fiscal_revenues"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1949), MaxValueValidator(2100)])
    amount = models.DecimalField(
        _("amount"), validators=[MinValueValidator(Decimal(0))], max_digits=18, decimal_places=2
    )
    source = models.TextField(_("source"), blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "-year"]
        verbose_name = _("fiscal revenue")
        verbose_name_plural = _("fiscal revenues")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"],
                name="one_revenue_per_organization_year",
                violation_error_message=_("A revenue is already recorded for this organization and year."),
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="revenue_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}"


class AnnualMandate(models.Model):
    """What a pairing's assisting side owes in a year. Pledged, committed and received are derived from
    the fund flows (see selectors.mandate_figures), never typed in."""

    pairing = models.ForeignKey(Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="mandates")
    year = models.PositiveSmallIntegerField(_("year"))
    funds_required = models.DecimalField(
        _("funds required"), validators=[MinValueValidator(Decimal(0))], max_digits=18, decimal_places=2
    )
    personnel_quota = models.PositiveIntegerField(_("personnel quota"), null=True, blank=True)
    rule = models.ForeignKey(
        FundingRule,
        verbose_name=_("funding rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mandates",
        help_text=_("The rule version it was computed with; empty when set by hand."),
    )
    basis_revenue = models.ForeignKey(
        FiscalRevenue, verbose_name=_("revenue used"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    basis_amount = models.DecimalField(_("revenue amount used"), null=True, blank=True, max_digits=18, decimal_places=2)
    shared_by = models.PositiveSmallIntegerField(
        _("pairings sharing the rule's amount"),
        default=1,
        help_text=_(
            "The assisting party's pairings in the programme that year: the rule's amount is split among them."
        ),
    )
    is_manual = models.BooleanField(_("set by hand"), default=False)
    reason = models.TextField(_("reason"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pairing", "year"]
        verbose_name = _("annual mandate")
        verbose_name_plural = _("annual mandates")
        constraints = [
            models.UniqueConstraint(fields=["pairing", "year"], name="one_mandate_per_pairing_year"),
            models.CheckConstraint(condition=Q(funds_required__gte=0), name="mandate_not_negative"),
            models.CheckConstraint(condition=Q(is_manual=False) | ~Q(reason=""), name="manual_mandate_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.pairing} {self.year}"

    @property
    def is_unverified(self) -> bool:
        """Computed with a rule whose rate or base year no source gives."""
        return self.rule is not None and self.rule.is_unverified


class Recorded(ChoiceLabels, models.Model):
    """What every record of money or people carries: a note, whether it is synthetic demo data, who recorded it
    and when."""

    note = models.TextField(_("note"), blank=True)
    is_synthetic = models.BooleanField(_("synthetic"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The id the record has in the system it was imported from: a spreadsheet row is matched to the record it
    # made before by this key (unique per pairing), so re-importing a file never counts money or people twice.
    external_ref = models.CharField(
        _("external reference"),
        max_length=100,
        blank=True,
        help_text=_("Your own id for this record (e.g. a voucher number); imports match rows by it."),
    )

    class Meta:
        abstract = True


class FlowKind(models.TextChoices):
    PLEDGE = "pledge", _("Pledge")
    COMMITMENT = "commitment", _("Commitment")
    DISBURSEMENT = "disbursement", _("Disbursement")
    EXPENDITURE = "expenditure", _("Expenditure")


class FlowSource(models.TextChoices):
    ASSISTING_FISCAL = "assisting_fiscal", _("Assisting side's budget")
    RECIPIENT_MATCHING = "recipient_matching", _("Recipient's matching funds")
    ENTERPRISE = "enterprise", _("Enterprise")
    SOCIAL_DONATION = "social_donation", _("Social donation")
    LOAN = "loan", _("Loan")


class FundFlow(Recorded):
    """Money moving in a pairing. A pledge counts toward fulfilment only once it is committed (a commitment
    recorded against it); disbursements are what the recipient received (到位)."""

    pairing = models.ForeignKey(Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="fund_flows")
    # The projects app (above this one) links flows to projects; this side holds the id only, so that
    # pairings never refers up the chain of apps.
    project_id = models.PositiveBigIntegerField(_("project"), null=True, blank=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=FlowKind.choices)
    amount = models.DecimalField(
        _("amount"), validators=[MinValueValidator(Decimal("0.01"))], max_digits=18, decimal_places=2
    )
    date = models.DateField(_("date"))
    source = models.CharField(_("source of funds"), max_length=24, choices=FlowSource.choices)
    pledge = models.OneToOneField(
        "self",
        verbose_name=_("pledge fulfilled"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitment",
        help_text=_("For a commitment: the pledge it turns into a commitment."),
    )
    reference = models.CharField(_("reference"), max_length=120, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("fund flow")
        verbose_name_plural = _("fund flows")
        constraints = [
            models.UniqueConstraint(
                fields=["pairing", "external_ref"],
                condition=~Q(external_ref=""),
                name="flow_external_ref_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="flow_amount_positive"),
            models.CheckConstraint(
                condition=Q(pledge__isnull=True) | Q(kind="commitment"), name="only_commitments_fulfil_pledges"
            ),
        ]
        indexes = [
            models.Index(fields=["pairing", "kind", "date"]),
            # A pairing's latest flows (its page, its list), read from the top however many it has.
            models.Index(fields=["pairing", "-date", "-id"], name="flow_pairing_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.date})"


class FlowYearTotal(models.Model):
    """A rollup row: the flows of one pairing dated in one calendar year, of one kind, added up — kept exact by
    triggers on the flows' table (`pairings.rollups`) and read by `pairings.figures` instead of the flows. Kind
    `pledge_open` adds up the pledges no commitment has fulfilled yet."""

    # No foreign-key constraint: a row is written by the flows' trigger, and a pairing's deletion (its flows
    # first) must not depend on the order in which Django deletes the rollup and the flows.
    pairing = models.ForeignKey(Pairing, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))
    flows = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pairing", "year", "kind"], name="flow_year_total_key")]

    def __str__(self) -> str:
        return f"{self.pairing_id} {self.year} {self.kind}: {self.amount} ({self.flows})"


class FlowTotal(models.Model):
    """A rollup row: the flows of one pairing of one kind, all years added up — `FlowYearTotal` without the year,
    kept exact by triggers on that table (`pairings.rollups`). The all-years figures of the dashboards read one
    row per pairing and kind here (447 rows at 100 000 projects) instead of one per year (6 509)."""

    pairing = models.ForeignKey(Pairing, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    kind = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))
    flows = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pairing", "kind"], name="flow_total_key")]

    def __str__(self) -> str:
        return f"{self.pairing_id} {self.kind}: {self.amount} ({self.flows})"


class DeploymentKind(models.TextChoices):
    CADRE = "cadre", _("Cadre")
    TEACHER = "teacher", _("Teacher")
    DOCTOR = "doctor", _("Doctor")
    TECHNICIAN = "technician", _("Technician")
    OTHER = "other", _("Other")


class Deployment(Recorded):
    """People sent by the assisting side: a batch of cadres, teachers, doctors or technicians."""

    pairing = models.ForeignKey(
        Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="deployments"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=DeploymentKind.choices)
    batch = models.CharField(_("batch"), max_length=60, blank=True)
    headcount = models.PositiveIntegerField(_("headcount"), validators=[MinValueValidator(1)])
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    group_style = models.BooleanField(_("group-style (组团式)"), default=False)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        constraints = [
            models.UniqueConstraint(
                fields=["pairing", "external_ref"],
                condition=~Q(external_ref=""),
                name="deployment_external_ref_unique",
            ),
            models.CheckConstraint(condition=Q(headcount__gte=1), name="deployment_headcount_positive"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="deployment_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} × {self.headcount} ({self.start_date})"


class Training(Recorded):
    """Training given to the recipient side's people."""

    pairing = models.ForeignKey(Pairing, verbose_name=_("pairing"), on_delete=models.PROTECT, related_name="trainings")
    topic = models.CharField(_("topic"), max_length=200)
    people_trained = models.PositiveIntegerField(_("people trained"), validators=[MinValueValidator(1)])
    days = models.DecimalField(
        _("days"), max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    start_date = models.DateField(_("date"))

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        constraints = [
            models.UniqueConstraint(
                fields=["pairing", "external_ref"],
                condition=~Q(external_ref=""),
                name="training_external_ref_unique",
            ),
            models.CheckConstraint(condition=Q(people_trained__gte=1), name="training_people_positive"),
            models.CheckConstraint(condition=Q(days__gt=0), name="training_days_positive"),
        ]

    def __str__(self) -> str:
        return self.topic
