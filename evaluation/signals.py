"""Every programme has an indicator framework: the default one is made when the programme is created (once
its transaction commits, so that its funding rule, made in the same transaction, sets the share targets)."""

from typing import Any

from django.db import transaction


def default_framework_for_new_program(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    from .services import framework_current

    pk = instance.pk

    def make() -> None:
        from pairings.models import Program

        program = Program.objects.filter(pk=pk).first()
        if program is not None:
            framework_current(program)

    transaction.on_commit(make)


def default_frameworks_after_migrate(sender: Any, **kwargs: Any) -> None:
    """Programmes loaded before this app existed get theirs after `migrate`."""
    from .services import ensure_default_frameworks

    ensure_default_frameworks()
