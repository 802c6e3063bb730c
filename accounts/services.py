"""Writes on organizations and users: each checks the actor's right, validates, records history."""

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import DomainError, Problem
from core.models import Region
from core.services import diff_fields, history_record

from . import policy
from .models import Notification, Organization, Role, RoleAssignment, User
from .notifications import render

logger = logging.getLogger(__name__)


def _check_parent(org: Organization | None, parent: Organization | None) -> None:
    if parent is None or org is None or org.pk is None:
        return
    if parent.pk == org.pk or parent.path.startswith(org.path):
        raise DomainError("parent_cycle", _("An organization cannot sit under itself."), "parent")


def organization_create(
    *,
    by: User | None,
    name: str,
    kind: str,
    name_en: str = "",
    region: Region | None = None,
    parent: Organization | None = None,
) -> Organization:
    policy.may_manage_organizations(by).enforce()
    name = name.strip()
    if not name:
        raise DomainError("required", _("Enter a name."), "name")
    with transaction.atomic():
        if Organization.objects.filter(name=name).exists():
            raise DomainError("duplicate", _("An organization with this name already exists."), "name")
        org = Organization(name=name, name_en=name_en.strip(), kind=kind, region=region, parent=parent)
        try:
            org.full_clean(exclude=["path"])
        except ValidationError as exc:
            raise _from_validation(exc) from exc
        try:
            with transaction.atomic():
                org.save()
        except IntegrityError as exc:
            raise DomainError("duplicate", _("An organization with this name already exists."), "name") from exc
        org.path = f"{parent.path if parent else '/'}{org.pk}/"
        org.save(update_fields=["path"])
        history_record(obj=org, action="created", actor=by, changes={"name": (None, org.name), "kind": (None, kind)})
    return org


def organization_update(
    *,
    organization: Organization,
    by: User | None,
    name: str,
    kind: str,
    name_en: str = "",
    region: Region | None = None,
    parent: Organization | None = None,
    is_active: bool = True,
) -> Organization:
    policy.may_manage_organizations(by, organization).enforce()
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        _check_parent(org, parent)
        values = {
            "name": name.strip(),
            "name_en": name_en.strip(),
            "kind": kind,
            "region": region,
            "parent": parent,
            "is_active": is_active,
        }
        if Organization.objects.filter(name=values["name"]).exclude(pk=org.pk).exists():
            raise DomainError("duplicate", _("An organization with this name already exists."), "name")
        changes = diff_fields(org, values)
        for field, value in values.items():
            setattr(org, field, value)
        try:
            org.full_clean(exclude=["path"])
        except ValidationError as exc:
            raise _from_validation(exc) from exc
        old_path = org.path
        org.path = f"{parent.path if parent else '/'}{org.pk}/"
        org.save()
        if old_path != org.path:
            # Move the subtree with it: every descendant's path starts with the old prefix.
            for child in Organization.objects.filter(path__startswith=old_path).exclude(pk=org.pk):
                child.path = org.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
        if changes:
            history_record(obj=org, action="updated", actor=by, changes=changes)
    return org


def _from_validation(exc: ValidationError) -> DomainError:
    problems = []
    for field, messages in exc.message_dict.items():
        for m in messages:
            problems.append(Problem("invalid", m, None if field == "__all__" else field))
    return DomainError.many(problems)


def _validate_roles(roles: Iterable[str]) -> list[str]:
    roles = list(dict.fromkeys(roles))
    valid = set(Role.values)
    bad = [r for r in roles if r not in valid]
    if bad:
        raise DomainError("invalid_role", _("Unknown role: %(roles)s.") % {"roles": ", ".join(bad)}, "roles")
    if not roles:
        raise DomainError("required", _("Choose at least one role."), "roles")
    return roles


def user_create(
    *,
    by: User | None,
    username: str,
    organization: Organization,
    roles: Iterable[str],
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    preferred_language: str = "zh-hans",
) -> User:
    """Add a user to ORGANIZATION with ROLES. A username taken (in any case) is refused, not overwritten."""
    policy.may_manage_users(by).enforce()
    username = username.strip()
    role_list = _validate_roles(roles)
    if not username:
        raise DomainError("required", _("Enter a username."), "username")
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError("duplicate", _("A user with this username already exists."), "username")
    user = User(
        username=username,
        organization=organization,
        first_name=first_name,
        last_name=last_name,
        email=email,
        preferred_language=preferred_language,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError.many(Problem("invalid_password", m, "password") for m in exc.messages) from exc
    user.set_password(password)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise _from_validation(exc) from exc
    try:
        with transaction.atomic():
            user.save()
            RoleAssignment.objects.bulk_create([RoleAssignment(user=user, role=r) for r in role_list])
            history_record(
                obj=user,
                action="created",
                actor=by,
                changes={"organization": (None, organization), "roles": (None, sorted(role_list))},
            )
    except IntegrityError as exc:
        # Two coordinators adding the same username at once: the unique index decides.
        raise DomainError("duplicate", _("A user with this username already exists."), "username") from exc
    return user


def user_set_roles(*, user: User, by: User | None, roles: Iterable[str]) -> User:
    policy.may_manage_users(by, user).enforce()
    role_list = _validate_roles(roles)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old = sorted(locked.role_assignments.values_list("role", flat=True))
        new = sorted(role_list)
        if old != new:
            locked.role_assignments.exclude(role__in=new).delete()
            RoleAssignment.objects.bulk_create([RoleAssignment(user=locked, role=r) for r in new if r not in old])
            history_record(obj=locked, action="roles_changed", actor=by, changes={"roles": (old, new)})
    user.__dict__.pop("roles", None)
    return user


def user_update(
    *,
    user: User,
    by: User | None,
    organization: Organization,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    preferred_language: str = "zh-hans",
) -> User:
    policy.may_manage_users(by, user).enforce()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        values = {
            "organization": organization,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "preferred_language": preferred_language,
        }
        changes = diff_fields(locked, values)
        for k, v in values.items():
            setattr(locked, k, v)
        try:
            locked.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise _from_validation(exc) from exc
        locked.save(update_fields=list(values))
        if changes:
            history_record(obj=locked, action="updated", actor=by, changes=changes)
    return locked


def user_set_active(*, user: User, by: User | None, active: bool, comment: str = "") -> User:
    """Deactivate (or reactivate) a user. Deactivation also revokes every API token they hold."""
    policy.may_manage_users(by, user).enforce()
    if by is not None and by.pk == user.pk and not active:
        raise DomainError("self_deactivation", _("You cannot deactivate yourself."), "is_active")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        if not active:
            from knox.models import AuthToken

            AuthToken.objects.filter(user=locked).delete()
        history_record(
            obj=locked,
            action="activated" if active else "deactivated",
            actor=by,
            changes={"is_active": (not active, active)},
            comment=comment,
        )
    return locked


#: The profile fields `user_change` may change (with the roles and whether the account is active).
USER_PROFILE_FIELDS = ("organization", "first_name", "last_name", "email", "preferred_language")


def user_change(*, user: User, by: User | None, **changes: Any) -> User:
    """One edit of a user, from the user page or the API: any of the profile fields, `roles`, `is_active`.

    All or nothing, in one transaction: a refused role list or a bad e-mail leaves the name unchanged too.
    Fields not given keep their value. Each part is written by its own service, so history reads the same
    whichever door the change came through."""
    unknown = set(changes) - {*USER_PROFILE_FIELDS, "roles", "is_active"}
    if unknown:
        raise TypeError(f"user_change() got unexpected fields: {', '.join(sorted(unknown))}")
    policy.may_manage_users(by, user).enforce()
    # The roles are checked before anything is written, so that a form hears of a bad role list and a bad
    # profile field in one answer.
    problems: list[Problem] = []
    if "roles" in changes:
        try:
            _validate_roles(changes["roles"])
        except DomainError as exc:
            problems.extend(exc.problems)
    with transaction.atomic():
        if set(USER_PROFILE_FIELDS) & set(changes):
            try:
                user = user_update(
                    user=user, by=by, **{f: changes.get(f, getattr(user, f)) for f in USER_PROFILE_FIELDS}
                )
            except DomainError as exc:
                problems.extend(exc.problems)
        if problems:
            raise DomainError.many(problems)
        if "roles" in changes:
            user = user_set_roles(user=user, by=by, roles=changes["roles"])
        if "is_active" in changes:
            user = user_set_active(user=user, by=by, active=changes["is_active"])
    user.__dict__.pop("roles", None)
    return user


def user_unlock(*, user: User, by: User | None, comment: str = "") -> User:
    """Lift the lock django-axes put on USER after repeated failed sign-ins, before its cool-off ends: the failures
    are forgotten, the next sign-in is checked afresh. An account that is not locked is refused (`not_locked`), so a
    second unlock of the same account says so instead of recording a second event."""
    from axes.utils import reset

    from .selectors import is_locked

    policy.may_unlock_users(by, user).enforce()
    with transaction.atomic():
        # The user's row serialises two coordinators unlocking the same account at once.
        locked = User.objects.select_for_update().get(pk=user.pk)
        if not is_locked(locked):
            raise DomainError("not_locked", _("This account is not locked."), None)
        reset(username=locked.username)
        history_record(obj=locked, action="unlocked", actor=by, changes={"locked": (True, False)}, comment=comment)
    return locked


def user_set_language(*, user: User, language: str) -> User:
    """The user's own choice of interface language (kept across sessions and devices)."""
    from .models import Language

    if language not in Language.values:
        raise DomainError("invalid_language", _("Unknown language."), "language")
    if user.preferred_language != language:
        User.objects.filter(pk=user.pk).update(preferred_language=language)
        user.preferred_language = language
    return user


# --- notifications -------------------------------------------------------------------------------------------


def notify(
    users: Iterable[User | int],
    kind: str,
    params: dict[str, Any] | None = None,
    link: str = "",
    *,
    key: str = "",
    mail: bool = False,
) -> list[int]:
    """Put a notification of KIND (registered in accounts.notifications) in each user's inbox.
    KEY makes it once per user (a reminder, a task's event): a user who already holds a notification with that key
    gets none and is not e-mailed, even when two deliveries of the same task run at the same moment (the unique
    (recipient, key) constraint decides). MAIL: also e-mail it, in each user's language, to those who chose e-mails
    "at once" and have an address (digest users get it in their daily digest). Returns the ids of the users who
    got it."""
    ids = list(dict.fromkeys(u if isinstance(u, int) else u.pk for u in users))
    if not ids:
        return []
    params = params or {}
    if key:
        had = set(Notification.objects.filter(key=key, recipient_id__in=ids).values_list("recipient_id", flat=True))
        made = []
        for pk in ids:
            if pk in had:
                continue
            # One insert each: a concurrent delivery's row makes get_or_create answer "not created".
            _note, created = Notification.objects.get_or_create(
                recipient_id=pk, key=key, defaults={"kind": kind, "params": params, "link": link}
            )
            if created:
                made.append(pk)
        ids = made
    else:
        Notification.objects.bulk_create(
            [Notification(recipient_id=pk, kind=kind, params=params, link=link) for pk in ids]
        )
    if mail:
        for user in User.objects.filter(pk__in=ids):
            if user.mails_at_once:
                send_notification_mail(user, kind, params, link)
    return ids


def send_notification_mail(user: User, kind: str, params: dict[str, Any], link: str = "") -> bool:
    """E-mail one notification to USER in their language. Returns whether it went: a mail server that does not
    answer is logged (the notification is in the inbox either way)."""
    with translation.override(user.preferred_language):
        text = render(kind, params)
        subject = _("Duikou: %(text)s") % {"text": text[:120]}
        body = f"{text}\n\n{settings.SITE_URL.rstrip('/')}{link}" if link else text
    try:
        send_mail(subject, body, None, [user.email])
    except OSError:
        logger.warning("notification %s: the e-mail to user %s could not be sent", kind, user.pk, exc_info=True)
        return False
    return True


def user_set_notification_email(*, user: User, choice: str) -> User:
    """The user's own choice of how notifications reach their e-mail: at once, in a daily digest, or not at all."""
    from .models import NotificationEmail

    if choice not in NotificationEmail.values:
        raise DomainError("invalid_choice", _("Choose at once, daily digest or no e-mail."), "notification_email")
    if user.notification_email != choice:
        old = user.notification_email
        User.objects.filter(pk=user.pk).update(notification_email=choice)
        user.notification_email = choice
        history_record(obj=user, action="updated", actor=user, changes={"notification_email": (old, choice)})
    return user


#: A digest lists what was made since the previous one went out, starting this much earlier: a notification made
#: just before a digest but committed just after it is not left out (one never goes in two digests).
DIGEST_OVERLAP = timedelta(hours=1)
#: At most this many notifications are written out in one digest; the rest are counted and the inbox lists all.
DIGEST_MAX_ITEMS = 50


def digest_send(*, user: User, day: date) -> int:
    """The daily digest of USER for DAY: one e-mail in their language listing the notifications made since their
    previous digest (the last day's on the first), each put in this digest only. The digest of a day is recorded
    before the mail goes, under the unique (user, day) constraint, in one transaction with it: a second run or a
    redelivered task that day sends nothing, and a mail server that fails leaves nothing recorded, so the next
    run sends them. Nothing to tell, no mail. Returns how many notifications it listed."""
    from .models import NotificationDigest

    now = timezone.now()
    previous = NotificationDigest.objects.filter(user=user, day__lt=day).order_by("-day").first()
    since = previous.sent_at - DIGEST_OVERLAP if previous else now - timedelta(days=1)
    with transaction.atomic():
        try:
            with transaction.atomic():
                digest = NotificationDigest.objects.create(user=user, day=day)
        except IntegrityError:
            return 0  # sent already today
        pending = list(
            Notification.objects.select_for_update()
            .filter(recipient=user, digest__isnull=True, created_at__gte=since, created_at__lte=now)
            .order_by("created_at", "id")
        )
        if not pending:
            transaction.set_rollback(True)
            return 0
        subject, body = _digest_mail(user, pending)
        try:
            send_mail(subject, body, None, [user.email])
        except OSError:
            logger.warning("the digest of user %s could not be sent", user.pk, exc_info=True)
            transaction.set_rollback(True)
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(digest=digest)
        NotificationDigest.objects.filter(pk=digest.pk).update(count=len(pending))
    return len(pending)


def _digest_mail(user: User, notes: list[Notification]) -> tuple[str, str]:
    """The subject and text of a digest listing NOTES, in USER's language."""
    site = settings.SITE_URL.rstrip("/")
    n = len(notes)
    with translation.override(user.preferred_language):
        subject = ngettext(
            "Duikou daily digest: %(n)s new notification", "Duikou daily digest: %(n)s new notifications", n
        ) % {"n": n}
        lines = [
            ngettext(
                "You have %(n)s new notification since your last digest:",
                "You have %(n)s new notifications since your last digest:",
                n,
            )
            % {"n": n},
            "",
        ]
        for note in notes[:DIGEST_MAX_ITEMS]:
            when = timezone.localtime(note.created_at).strftime("%Y-%m-%d %H:%M")
            lines.append(f"- {when} {note.text}")
            if note.link:
                lines.append(f"  {site}{note.link}")
        if n > DIGEST_MAX_ITEMS:
            lines.append(
                ngettext("… and %(n)s more.", "… and %(n)s more.", n - DIGEST_MAX_ITEMS) % {"n": n - DIGEST_MAX_ITEMS}
            )
        lines += [
            "",
            _("All your notifications: %(url)s") % {"url": site + reverse("accounts:notifications")},
            _("You receive one digest a day. To change how notifications reach you, see your profile: %(url)s")
            % {"url": site + reverse("accounts:profile")},
        ]
    return subject, "\n".join(lines)


def notification_read(*, notification: Notification) -> Notification:
    """Mark a notification read (one already read stays as it was). The caller found it in the reader's inbox
    (accounts.selectors.notifications_of), so nobody marks another's."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(*, user: User) -> int:
    """Mark every unread notification of USER read; returns how many."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
