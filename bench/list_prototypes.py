#!/usr/bin/env python
"""Prototypes of the fixes recommended for the project list API, measured like (a) in project_list.py.

    .venv/bin/python bench/list_prototypes.py            (after project_list.py has built the data set)

Not the project's code: each variant subclasses `projects.api.ProjectViewSet` on a throwaway URLconf, and each is
checked to return exactly the page the API returns before it is timed. They add up, one fix at a time:

- served      the API as it is;
- lean        the same queryset, the list rows represented by a hand-written `to_representation` (same output)
              instead of DRF's field-by-field serialisation of 41 fields;
- +auth       one authentication query: token, user, organization and region together, and expired tokens
              refused without knox's per-request clean-up query (which lists every token of the user);
- +ids-first  the page's ids picked from the project table alone, then only those rows joined to their names
              (a paginator whose page is ``filter(pk__in=<ids subquery>)``);
- values      +auth and ids-first, with the rows read by ``values_list`` (no model instances) and turned into
              dicts directly: what the list would cost written like the limit, inside DRF.

It prints each variant's median, its ratio to the limit (b), and its queries per request.
"""

import json
import statistics
import sys
import time
import types
from decimal import Decimal
from hmac import compare_digest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import project_list as bench


def build_variants() -> list[tuple[str, type]]:
    from django.core.paginator import Paginator
    from django.utils import timezone
    from django.utils.translation import get_language
    from knox.auth import TokenAuthentication
    from knox.crypto import hash_token
    from knox.models import AuthToken
    from knox.settings import CONSTANTS
    from rest_framework import exceptions

    from core.api.pagination import StandardPagination
    from projects import api, services
    from projects.models import IATI_ACTIVITY_STATUS, Project

    def money(value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.2f}"

    def iso(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    class OneQueryTokenAuthentication(TokenAuthentication):
        def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
            key = token.decode()
            tokens = AuthToken.objects.filter(token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
                "user__organization__region"
            )
            for candidate in tokens:
                if candidate.expiry is not None and candidate.expiry < timezone.now():
                    continue
                if compare_digest(hash_token(key), candidate.digest):
                    return self.validate_user(candidate)
            raise exceptions.AuthenticationFailed("Invalid token.")

    class IdsFirstPaginator(Paginator):
        def page(self, number: Any) -> Any:
            number = self.validate_number(number)
            bottom = (number - 1) * self.per_page
            ids = self.object_list.values("pk")[bottom : bottom + self.per_page]
            return self._get_page(list(self.object_list.filter(pk__in=ids)), number, self)

    class IdsFirstPagination(StandardPagination):
        django_paginator_class = IdsFirstPaginator

    class LeanProjectSerializer(api.ProjectSerializer):
        def to_representation(self, p: Any) -> dict[str, Any]:
            pairing, loc = p.pairing, p.location
            tz = timezone.get_current_timezone()
            return {
                "id": p.id,
                "code": p.code,
                "title": p.title,
                "pairing": pairing.id,
                "pairing_label": str(pairing),
                "program": pairing.program_id,
                "program_code": pairing.program.code,
                "program_name": pairing.program.display_name,
                "assisting_organization": pairing.assisting_organization_id,
                "assisting_organization_name": pairing.assisting_organization.display_name,
                "recipient_region": pairing.recipient_region.code,
                "recipient_region_name": pairing.recipient_region.display_name,
                "category": p.category,
                "sector": p.sector,
                "execution_mode": p.execution_mode,
                "location": loc.code if loc else None,
                "location_name": loc.display_name if loc else None,
                "latitude": None if p.latitude is None else f"{p.latitude:.6f}",
                "longitude": None if p.longitude is None else f"{p.longitude:.6f}",
                "is_livelihood": p.is_livelihood,
                "is_self_sustaining": p.is_self_sustaining,
                "budget_requested": money(p.budget_requested),
                "approved_budget": money(p.approved_budget),
                "funding_sources": [
                    {"source": s["source"], "amount": money(Decimal(s["amount"]))} for s in p.funding_sources
                ],
                "planned_start": iso(p.planned_start),
                "planned_end": iso(p.planned_end),
                "actual_start": iso(p.actual_start),
                "actual_end": iso(p.actual_end),
                "expected_beneficiaries": p.expected_beneficiaries,
                "reached_beneficiaries": p.reached_beneficiaries,
                "implementing_agency": p.implementing_agency,
                "description": p.description,
                "repayment_terms": p.repayment_terms,
                "state": p.state,
                "allowed_actions": services.allowed_actions(self.context["request"].user, p),
                "proposed_by": p.proposed_by_id,
                "iati_finance_type": p.iati_finance_type,
                "iati_activity_status": p.iati_activity_status,
                "is_synthetic": p.is_synthetic,
                "created_at": p.created_at.astimezone(tz).isoformat(),
                "updated_at": p.updated_at.astimezone(tz).isoformat(),
            }

    columns = (
        "id", "code", "title", "pairing_id", "pairing__program_id", "pairing__program__code", "pairing__program__name",
        "pairing__program__name_en", "pairing__assisting_organization_id", "pairing__assisting_organization__name",
        "pairing__assisting_organization__name_en", "pairing__recipient_region__code",
        "pairing__recipient_region__name", "pairing__recipient_region__name_en", "category", "sector",
        "execution_mode", "location__code", "location__name", "location__name_en", "latitude", "longitude",
        "is_livelihood", "is_self_sustaining", "budget_requested", "approved_budget", "funding_sources",
        "planned_start", "planned_end", "actual_start", "actual_end", "expected_beneficiaries",
        "reached_beneficiaries", "implementing_agency", "description", "repayment_terms", "state", "proposed_by_id",
        "is_synthetic", "created_at", "updated_at",
    )  # fmt: skip

    def values_list_action(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        qs = self.filter_queryset(self.get_queryset())
        pagination = self.paginator
        page = Paginator(qs.values("pk"), pagination.get_page_size(request)).page(request.query_params.get("page", 1))
        user = request.user
        english = (get_language() or "").startswith("en")

        def name(zh: str, en: str | None) -> str | None:
            return (en or zh) if english else zh

        tz = timezone.get_current_timezone()
        actions: dict[tuple[str, bool], list[str]] = {}
        rows = []
        for r in qs.filter(pk__in=page.object_list).values_list(*columns):
            key = (r[36], r[37] == user.pk)
            if key not in actions:
                actions[key] = services.allowed_actions(user, Project(state=r[36], proposed_by_id=r[37]))
            org, region = name(r[9], r[10]), name(r[12], r[13])
            rows.append(
                {
                    "id": r[0],
                    "code": r[1],
                    "title": r[2],
                    "pairing": r[3],
                    "pairing_label": f"{org} → {region}",
                    "program": r[4],
                    "program_code": r[5],
                    "program_name": name(r[6], r[7]),
                    "assisting_organization": r[8],
                    "assisting_organization_name": org,
                    "recipient_region": r[11],
                    "recipient_region_name": region,
                    "category": r[14],
                    "sector": r[15],
                    "execution_mode": r[16],
                    "location": r[17],
                    "location_name": None if r[17] is None else name(r[18], r[19]),
                    "latitude": None if r[20] is None else f"{r[20]:.6f}",
                    "longitude": None if r[21] is None else f"{r[21]:.6f}",
                    "is_livelihood": r[22],
                    "is_self_sustaining": r[23],
                    "budget_requested": money(r[24]),
                    "approved_budget": money(r[25]),
                    "funding_sources": [{"source": s["source"], "amount": money(Decimal(s["amount"]))} for s in r[26]],
                    "planned_start": iso(r[27]),
                    "planned_end": iso(r[28]),
                    "actual_start": iso(r[29]),
                    "actual_end": iso(r[30]),
                    "expected_beneficiaries": r[31],
                    "reached_beneficiaries": r[32],
                    "implementing_agency": r[33],
                    "description": r[34],
                    "repayment_terms": r[35],
                    "state": r[36],
                    "allowed_actions": actions[key],
                    "proposed_by": r[37],
                    "iati_finance_type": 410 if r[14] == "reimbursable" else 110,
                    "iati_activity_status": IATI_ACTIVITY_STATUS[r[36]],
                    "is_synthetic": r[38],
                    "created_at": r[39].astimezone(tz).isoformat(),
                    "updated_at": r[40].astimezone(tz).isoformat(),
                }
            )
        pagination.request, pagination.page = request, page
        return pagination.get_paginated_response(rows)

    base = api.ProjectViewSet

    def lean_class(self: Any) -> type:
        return LeanProjectSerializer

    auth = {"authentication_classes": [OneQueryTokenAuthentication]}
    return [
        ("lean", type("Lean", (base,), {"get_serializer_class": lean_class})),
        ("+auth", type("LeanAuth", (base,), {"get_serializer_class": lean_class, **auth})),
        (
            "+ids-first",
            type(
                "LeanAuthIds",
                (base,),
                {"get_serializer_class": lean_class, "pagination_class": IdsFirstPagination, **auth},
            ),
        ),
        ("values", type("Values", (base,), {"list": values_list_action, **auth})),
    ]


def main() -> None:
    args = bench.parse_args()
    bench.ensure_database(args.database_url)
    bench.setup_django(args)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import include, path
    from rest_framework import routers

    import config.urls

    bench.prepare_data(args)
    user, token = bench.coordinator_token()
    limit = bench.make_limit(user)
    variants = build_variants()
    router = routers.SimpleRouter()
    for i, (_, viewset) in enumerate(variants):
        router.register(f"v{i}", viewset, basename=f"v{i}")
    module = types.ModuleType("bench_prototype_urls")
    module.urlpatterns = [path("proto/", include(router.urls)), *config.urls.urlpatterns]  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    paths = {"served": bench.API} | {name: f"/proto/v{i}/" for i, (name, _) in enumerate(variants)}
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=bench.HOST)
    size = args.page_size

    def get(url: str, page: int) -> bytes:
        response = client.get(url, {"page": page, "page_size": size}, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"GET {url}: {response.status_code} {response.content[:300]!r}")
        return response.content

    with override_settings(ROOT_URLCONF=module.__name__):
        queries = {}
        for page in (1, args.pages):
            reference = json.loads(get(bench.API, page))
            for name, url in paths.items():
                doc = json.loads(get(url, page))
                if (doc["count"], doc["results"]) != (reference["count"], reference["results"]):
                    raise SystemExit(f"{name} does not give the API's page {page}")
                with CaptureQueriesContext(connection) as ctx:
                    get(url, page)
                queries[name] = len(ctx.captured_queries)
        for i in range(args.warmup):
            for url in paths.values():
                get(url, i + 1)
        times: dict[str, list[float]] = {name: [] for name in [*paths, "limit"]}
        for _ in range(args.rounds):
            for page in range(1, args.pages + 1):
                for name, url in paths.items():
                    t0 = time.perf_counter()
                    get(url, page)
                    times[name].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                limit(page, size)
                times["limit"].append(time.perf_counter() - t0)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{args.projects} projects, pages 1..{args.pages} of {size}, {args.rounds} rounds.")
    print(f"{'':12} {'median ms':>9} {'/ limit':>8} {'queries':>8}")
    for name, value in median.items():
        print(f"{name:12} {value * 1000:9.2f} {value / median['limit']:8.2f} {queries.get(name, 1):>8}")


if __name__ == "__main__":
    main()
