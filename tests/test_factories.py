"""Every concrete model of the apps has a factory in tests/factories.py, and every factory makes rows the models
accept: two instances save, pass `full_clean()` (fields, choices, validators, unique and check constraints) and do
not collide, also when the second one shares the parent the first one's unique key is scoped to."""

import inspect
from collections import defaultdict
from typing import Any

import factory
import pytest
from django.apps import apps
from django.db import models

from tests import factories

APP_LABELS = ("core", "accounts", "pairings", "projects", "evaluation")

#: Factories whose second instance cannot share the first one's parents, and why.
NO_SIBLINGS = {
    # The default framework has one expert-scored indicator: a second score by the same evaluator of the same
    # project on it is a change of the first score (the service updates it), not a new row.
    "ExpertScoreFactory": "one expert-scored indicator",
}


def concrete_models() -> list[type[models.Model]]:
    return [
        model
        for label in APP_LABELS
        for model in apps.get_app_config(label).get_models()
        if not model._meta.proxy and not model._meta.abstract
    ]


def factories_by_model() -> dict[type[models.Model], list[type[factory.django.DjangoModelFactory]]]:
    found: dict[type[models.Model], list[type[factory.django.DjangoModelFactory]]] = defaultdict(list)
    for _, obj in inspect.getmembers(factories, inspect.isclass):
        if issubclass(obj, factory.django.DjangoModelFactory) and obj._meta.model is not None:
            found[obj._meta.get_model_class()].append(obj)
    return found


FACTORIES = factories_by_model()
ALL_FACTORIES = sorted((f for model in concrete_models() for f in FACTORIES.get(model, [])), key=lambda f: f.__name__)


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def caller_relations(factory_class: type[factory.django.DjangoModelFactory]) -> dict[str, Any]:
    """Rows for the relations a factory leaves to its caller (a flow's pairing, a report's author): every relation
    the model requires (not blank) that the factory does not declare, each made with its model's factory."""
    model = factory_class._meta.get_model_class()
    declared = set(factory_class._meta.declarations) | set(factory_class._meta.parameters)
    return {
        field.name: make(field.related_model)
        for field in model._meta.get_fields()
        if isinstance(field, models.ForeignKey) and not field.blank and field.name not in declared
    }


def make(model: type[models.Model], **kwargs: Any) -> models.Model:
    """A row of MODEL from its plain factory (PairingFactory rather than BrokenDownPairingFactory)."""
    candidates = FACTORIES[model]
    factory_class = next((f for f in candidates if f.__name__ == f"{model.__name__}Factory"), candidates[0])
    return factory_class(**{**caller_relations(factory_class), **kwargs})


def scoped_parents(obj: models.Model) -> dict[str, Any]:
    """The parents OBJ's unique keys are scoped to: the relations of each unique constraint (or unique_together)
    that also names a field of its own (a mandate's pairing for (pairing, year); a run's program for its
    conditional (program, year))."""
    meta = obj._meta
    keys = [list(c.fields) for c in meta.constraints if isinstance(c, models.UniqueConstraint)]
    keys += [list(t) for t in meta.unique_together]
    parents: dict[str, Any] = {}
    for key in keys:
        fields = [meta.get_field(name) for name in key]
        relations = [f for f in fields if f.is_relation]
        if relations and len(relations) < len(fields):
            parents.update({f.name: getattr(obj, f.name) for f in relations})
    return parents


def assert_valid(obj: models.Model) -> None:
    obj.refresh_from_db()
    # Every field is judged, files included: a Document's file is stored (in memory, in the test settings) and
    # full_clean only checks its name's length.
    obj.full_clean()


def test_every_model_has_a_factory() -> None:
    from core.rollups import registered

    # A rollup's rows are written by its triggers only (core.rollups): a factory making them would break the totals.
    rollups = {r.model for r in registered()}
    assert rollups, "the rollups register when their apps are ready"
    missing = [_label(model) for model in concrete_models() if model not in FACTORIES and model not in rollups]
    assert not missing, f"models without a factory in tests/factories.py: {', '.join(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("factory_class", ALL_FACTORIES, ids=lambda f: f.__name__)
def test_factory_makes_valid_rows(factory_class: type[factory.django.DjangoModelFactory]) -> None:
    first = factory_class(**caller_relations(factory_class))
    second = factory_class(**caller_relations(factory_class))
    assert first.pk != second.pk
    assert_valid(first)
    assert_valid(second)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "factory_class", [f for f in ALL_FACTORIES if f.__name__ not in NO_SIBLINGS], ids=lambda f: f.__name__
)
def test_factory_siblings_do_not_collide(factory_class: type[factory.django.DjangoModelFactory]) -> None:
    first = factory_class(**caller_relations(factory_class))
    parents = scoped_parents(first)
    second = factory_class(**{**caller_relations(factory_class), **parents})
    assert first.pk != second.pk
    assert_valid(first)
    assert_valid(second)
