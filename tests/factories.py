"""factory_boy factories shared by the whole suite."""

import factory
from django.conf import settings

from accounts.models import Organization, OrganizationKind, RoleAssignment, User
from core.models import Region, RegionLevel


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{90 + n % 9}{n:04d}")
    name = factory.Sequence(lambda n: f"测试地区{n}")
    name_en = factory.Sequence(lambda n: f"Test region {n}")
    level = RegionLevel.PROVINCE
    parent = None


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试机构{n}")
    name_en = factory.Sequence(lambda n: f"Test organization {n}")
    kind = OrganizationKind.PROVINCIAL_GOVERNMENT
    region = None
    parent = None

    @factory.post_generation
    def set_path(obj: Organization, create: bool, extracted: object, **kwargs: object) -> None:
        # The service normally sets the materialized path; factories mirror it.
        if create:
            obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
            obj.save(update_fields=["path"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    organization = factory.SubFactory(OrganizationFactory)
    preferred_language = "en"
    password = factory.PostGenerationMethodCall("set_password", settings.DUIKOU_DEMO_PASSWORD)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        obj.save()
        if create and extracted:
            for role in extracted:
                RoleAssignment.objects.get_or_create(user=obj, role=role)
            obj.__dict__.pop("roles", None)
