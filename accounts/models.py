"""Organizations (the parties), users who act for them, and the roles users hold."""

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.models import Region, name_in_language


class OrganizationKind(models.TextChoices):
    CENTRAL_OFFICE = "central_office", _("Central office")
    PROVINCIAL_GOVERNMENT = "provincial_government", _("Provincial government")
    MUNICIPAL_GOVERNMENT = "municipal_government", _("Municipal government")
    COUNTY_GOVERNMENT = "county_government", _("County government")
    CENTRAL_ENTERPRISE = "central_enterprise", _("Central enterprise")
    AGENCY = "agency", _("Agency")


class OrganizationQuerySet(models.QuerySet["Organization"]):
    def under(self, org: "Organization") -> "OrganizationQuerySet":
        """The organization and every organization below it."""
        return self.filter(path__startswith=org.path)


class Organization(models.Model):
    """A party: the national office, an assisting government or its aid office, a recipient government, an agency.

    `path` is the chain of ids from the root ("/3/17/"), so "under" is one prefix query.
    """

    name = models.CharField(_("name (Chinese)"), max_length=200, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganizationKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT, related_name="organizations"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return name_in_language(self.name, self.name_en)

    @property
    def is_national(self) -> bool:
        return self.kind == OrganizationKind.CENTRAL_OFFICE


class Role(models.TextChoices):
    NATIONAL_COORDINATOR = "national_coordinator", _("National coordinator")
    ASSISTING_OFFICER = "assisting_officer", _("Assisting officer")
    RECIPIENT_OFFICER = "recipient_officer", _("Recipient officer")
    APPROVER = "approver", _("Approver")
    SUPERVISOR = "supervisor", _("Supervisor")
    EVALUATOR = "evaluator", _("Evaluator")
    OBSERVER = "observer", _("Observer")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", "简体中文"
    EN = "en", "English"


class NotificationEmail(models.TextChoices):
    """How a user's notifications reach their e-mail (the inbox holds them whatever the choice)."""

    AT_ONCE = "at_once", _("At once")
    DAILY_DIGEST = "daily_digest", _("Daily digest")
    NONE = "none", _("No e-mail")


class User(AbstractUser):
    """An official. Acts for exactly one organization (only a bootstrap superuser may have none) and holds
    one or more roles; what they may see comes from the organization, what they may do from the roles."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ZH_HANS
    )
    notification_email = models.CharField(
        _("notification e-mails"), max_length=16, choices=NotificationEmail.choices, default=NotificationEmail.AT_ONCE
    )

    # Labels for history entries that are not model fields.
    history_labels = {"roles": _("roles")}

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @classmethod
    def history_display(cls, name: str, value: Any) -> str | None:
        if name == "roles" and isinstance(value, list):
            return "、".join(str(Role(v).label) if v in Role.values else str(v) for v in value) or "—"
        return None

    def get_full_name(self) -> str:
        """Chinese names read family name first with no space (王国华); others given name first."""
        first, last = self.first_name.strip(), self.last_name.strip()
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()

    @cached_property
    def roles(self) -> frozenset[str]:
        """The roles this user holds (one query, cached for the request)."""
        if not self.pk:
            return frozenset()
        cache: Any = getattr(self, "_prefetched_objects_cache", {})
        if "role_assignments" in cache:
            return frozenset(a.role for a in cache["role_assignments"])
        return frozenset(self.role_assignments.values_list("role", flat=True))

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def mails_at_once(self) -> bool:
        """Whether a notification is e-mailed to this user as it is made (an active user with an address who chose
        "at once"); a digest user gets it in the next daily digest instead (accounts.tasks.send_digests)."""
        return self.is_active and bool(self.email) and self.notification_email == NotificationEmail.AT_ONCE


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_role_per_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class Notification(models.Model):
    """One message in a user's inbox. Only the kind (a code) and its parameters are stored: the text is written
    when it is shown, in the reader's language (accounts.notifications holds each kind's template)."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    # Set for a message that must reach each recipient once (a reminder): a second send with the same key is
    # dropped by the unique constraint below.
    key = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # The daily digest that e-mailed it (a user who chose the digest); a notification is put in one digest only.
    digest = models.ForeignKey(
        "NotificationDigest", null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at", "-created_at"], name="notification_inbox")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~models.Q(key=""), name="unique_notification_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.kind}"

    @property
    def text(self) -> str:
        from .notifications import render

        return render(self.kind, self.params)


class NotificationDigest(models.Model):
    """The one daily e-mail a user who chose the digest was sent: its day (unique per user, so a second run or a
    redelivered task sends nothing) and the notifications it listed (Notification.digest)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_digests")
    day = models.DateField(_("day"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    count = models.PositiveIntegerField(_("notifications"), default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("notification digest")
        verbose_name_plural = _("notification digests")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="unique_digest_per_day")]

    def __str__(self) -> str:
        return f"{self.user} · {self.day}"
