"""The fields of a project as the API lists it, declared once: ProjectSerializer lists them (its `Meta.fields`) and
the fast list (projects/listing.py) reads its columns from them, so a new field is one line here.

Each field is paired with where the fast list reads it:
- a column (a `values()` path from the project): shown as the serializer shows that kind of column;
- a `Name`: a name shown in the request's language, the column `path` or, in English, `path_en` when it is set
  (the models' `display_name`);
- `COMPUTED`: worked out from the row's other fields, by code of its own in projects/listing.py (which refuses to
  start without it).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Name:
    """A name in the request's language: `path` (Chinese), or in English `path`_en when it is set."""

    path: str

    @property
    def path_en(self) -> str:
        return f"{self.path}_en"


COMPUTED = None

PROJECT_LIST_FIELDS: tuple[tuple[str, str | Name | None], ...] = (
    ("id", "id"),
    ("code", "code"),
    ("title", "title"),
    ("pairing", "pairing_id"),
    ("pairing_label", COMPUTED),
    ("program", "pairing__program_id"),
    ("program_code", "pairing__program__code"),
    ("program_name", Name("pairing__program__name")),
    ("assisting_organization", "pairing__assisting_organization_id"),
    ("assisting_organization_name", Name("pairing__assisting_organization__name")),
    ("recipient_region", "pairing__recipient_region__code"),
    ("recipient_region_name", Name("pairing__recipient_region__name")),
    ("category", "category"),
    ("sector", "sector"),
    ("execution_mode", "execution_mode"),
    ("location", "location__code"),
    ("location_name", Name("location__name")),
    ("latitude", "latitude"),
    ("longitude", "longitude"),
    ("is_livelihood", "is_livelihood"),
    ("is_self_sustaining", "is_self_sustaining"),
    ("budget_requested", "budget_requested"),
    ("approved_budget", "approved_budget"),
    ("funding_sources", "funding_sources"),
    ("planned_start", "planned_start"),
    ("planned_end", "planned_end"),
    ("actual_start", "actual_start"),
    ("actual_end", "actual_end"),
    ("expected_beneficiaries", "expected_beneficiaries"),
    ("reached_beneficiaries", "reached_beneficiaries"),
    ("implementing_agency", "implementing_agency"),
    ("description", "description"),
    ("repayment_terms", "repayment_terms"),
    ("state", "state"),
    ("allowed_actions", COMPUTED),
    ("proposed_by", "proposed_by_id"),
    ("iati_finance_type", COMPUTED),
    ("iati_activity_status", COMPUTED),
    ("is_synthetic", "is_synthetic"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
