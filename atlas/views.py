"""The map page: an inline SVG drawn on the server (no script needed to read it or print it), the controls as a GET
form, the legend, and a table of the same figures."""

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import User
from core.forms import BootstrapFormMixin
from core.models import Region
from core.money import format_cny
from pairings.models import Program

from . import svg
from .boundaries import COUNTY, LEVELS, PROVINCE
from .selectors import (
    DEFAULT_LEVEL,
    FULFILMENT,
    LEVEL_LABELS,
    MAX_POINTS,
    MEASURES,
    RECEIVED,
    SCORE,
    Area,
    Class,
    MapData,
    classes,
    colour_of,
    map_data,
    programs_for,
)

#: Areas of no recipient, and recipients without the figure ('no data': hatched as well as lighter).
CONTEXT_FILL = "#f1f1ee"


class MapForm(BootstrapFormMixin, forms.Form):
    program = forms.ChoiceField(label=gettext_lazy("Programme"))
    level = forms.ChoiceField(label=gettext_lazy("Level"), choices=list(LEVEL_LABELS.items()))
    measure = forms.ChoiceField(label=gettext_lazy("Shaded by"), choices=list(MEASURES.items()))
    view = forms.ChoiceField(
        label=gettext_lazy("Map extent"),
        choices=[("country", gettext_lazy("Whole country")), ("area", gettext_lazy("Programme's area"))],
    )

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = {p.code: p for p in programs}
        cast(forms.ChoiceField, self.fields["program"]).choices = [(p.code, str(p)) for p in programs]


def format_value(measure: str, value: Any) -> str:
    if value is None:
        return _("no data")
    if measure == FULFILMENT:
        return f"{value * 100:.0f} %"
    if measure == RECEIVED:
        return format_cny(value)
    if measure == SCORE:
        return f"{value:.1f}"
    return str(value)


def _class_label(measure: str, c: Class) -> str:
    low = None if c.low is None else format_value(measure, c.low)
    high = None if c.high is None else format_value(measure, c.high)
    if low is None and high is None:
        return _("all")
    if low is None:
        return _("below %(high)s") % {"high": high}
    if high is None:
        return _("%(low)s or more") % {"low": low}
    return _("%(low)s to below %(high)s") % {"low": low, "high": high}


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def joined(items: list[str]) -> str:
    """A list in the page's language: 广东省人民政府、深圳市人民政府 / Guangdong, Shenzhen."""
    return ("、" if _chinese() else ", ").join(items)


def figures_text(area: Area) -> str:
    """The area's figures in one line: the tooltip's, the same as the table's row."""
    parts = [
        _("fulfilment %(v)s") % {"v": format_value(FULFILMENT, area.money.fulfilment)},
        _("received %(v)s") % {"v": format_value(RECEIVED, area.money.received)},
        _("projects %(v)s") % {"v": area.projects.total},
        _("latest score %(v)s") % {"v": format_value(SCORE, area.score)},
    ]
    return ("；" if _chinese() else "; ").join(parts)


@dataclass(frozen=True)
class Drawn:
    """One shape as the SVG draws it."""

    code: str
    d: str
    fill: str | None  # None: no data (hatched)
    title: str
    url: str | None
    area: str | None  # the code of the area it shows (its own, or the coarser recipient's it lies in)
    dot: tuple[float, float] | None  # for a tiny shape


def _markup(shapes: list[Drawn]) -> SafeString:
    """The shapes as SVG: each a path (and a dot when tiny) with its title, inside a link when it shows an area.
    Written here rather than by a template include per shape: a few hundred shapes, one string."""
    parts = []
    for s in shapes:
        fill = s.fill or "url(#map-nodata)"
        title = format_html("<title>{}</title>", s.title)
        shape = format_html('<path d="{}" fill="{}" data-code="{}">{}</path>', s.d, fill, s.code, title)
        if s.dot:
            shape += format_html(
                '<circle cx="{}" cy="{}" r="6" fill="{}" data-code="{}">{}</circle>', *s.dot, fill, s.code, title
            )
        if s.url:
            shape = format_html('<a href="{}" data-area="{}">{}</a>', s.url, s.area, shape)
        parts.append(shape)
    return mark_safe("".join(parts))  # noqa: S308 -- every part is built by format_html


def _names(codes: list[str]) -> dict[str, str]:
    return {r.code: r.display_name for r in Region.objects.filter(code__in=codes).only("code", "name", "name_en")}


def drawing(data: MapData, legend: list[Class], zoom: bool = False) -> dict[str, Any]:
    """The SVG's parts for DATA: the provinces, the finer layer inside the programme's provinces, the lines, the
    points and the South China Sea inset; ZOOM: the programme's provinces only, without the inset (the whole
    country is not shown). One query (the regions' names in the active language)."""
    areas = {a.code: a for a in data.areas}
    provinces = svg.shapes(PROVINCE)
    detail_level = data.level if data.level != PROVINCE else None
    detail = {}
    if detail_level is not None:
        inside = set(data.provinces)
        detail = {c: s for c, s in svg.shapes(detail_level).items() if c[:2] + "0000" in inside}
    names = _names([*provinces, *detail])

    def covering(code: str, level: str) -> Area | None:
        candidates = [code]
        if level == COUNTY:
            candidates.append(code if code[2:4] == "90" else code[:4] + "00")
        if level != PROVINCE:
            candidates.append(code[:2] + "0000")
        return next((areas[c] for c in candidates if c in areas), None)

    def drawn(shape: svg.Shape, level: str) -> Drawn:
        name = names.get(shape.code, shape.name)
        area = covering(shape.code, level)
        dot = (shape.x, shape.y) if shape.tiny else None
        if area is None:
            return Drawn(shape.code, shape.d, CONTEXT_FILL, name, None, None, dot)
        title = name if area.code == shape.code else f"{name} · {area.name}"
        title = f"{title} — {joined(area.assisting)}\n{figures_text(area)}"
        return Drawn(shape.code, shape.d, colour_of(area.value, legend), title, area.url, area.code, dot)

    frame = svg.frame()
    centre = {a.code: frame.point(*a.feature.label_point) for a in data.areas}
    lines = []
    starts = {}
    for line in data.lines:
        start = frame.point(*line.start)
        starts[line.organization] = start
        lines.append(
            {"d": svg.curve(start, centre[line.area]), "title": f"{line.organization} → {areas[line.area].name}"}
        )
    inset = svg.inset()
    zoomed = zoom and bool(data.areas)
    area_shapes = [provinces[c] for c in data.provinces if c in provinces]
    return {
        "width": frame.width,
        "height": frame.height,
        "view_box": svg.view_box(area_shapes) if zoomed else f"0 0 {frame.width} {frame.height}",
        "zoomed": zoomed,
        "provinces": _markup([drawn(s, PROVINCE) for s in provinces.values()]),
        "detail": _markup([drawn(s, detail_level) for s in detail.values()]) if detail_level else "",
        "lines": lines,
        "starts": [{"x": round(x), "y": round(y), "title": org} for org, (x, y) in starts.items()],
        "points": [
            {"x": round(x), "y": round(y), "title": p.title, "url": p.url}
            for p in data.points
            for x, y in [frame.point(p.lon, p.lat)]
        ],
        "inset": inset,
        "inset_label": {"x": round(inset.x + 10), "y": round(inset.y + inset.height - 12)},
        "inset_provinces": [provinces[c] for c in inset.provinces],
        "main_dashes": svg.main_dashes(),
    }


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    programs = programs_for(user)
    # What the query leaves out takes its default, so the form shows what the map shows.
    query = request.GET.copy()
    for name, default in (
        ("program", programs[0].code if programs else ""),
        ("level", DEFAULT_LEVEL),
        ("measure", FULFILMENT),
        ("view", "country"),
    ):
        if not query.get(name):
            query[name] = default
    form = MapForm(query, programs=programs)
    context: dict[str, Any] = {"form": form, "programs": programs}
    if not programs:
        return render(request, "atlas/map.html", context)
    if not form.is_valid():
        return render(request, "atlas/map.html", context, status=400)
    program = form.programs[form.cleaned_data["program"]]
    level = form.cleaned_data["level"]
    measure = form.cleaned_data["measure"]
    data = map_data(user, program, level, measure)
    legend = classes(measure, [a.value for a in data.areas])
    # Highest first, the areas without the figure last: the table reads as a ranking of what the map shades.
    rows = sorted(data.areas, key=lambda a: (a.value is None, -(a.value or 0), a.code))
    context.update(
        {
            "form": form,
            "data": data,
            "program": program,
            "level": level,
            "level_label": LEVEL_LABELS[level],
            "levels": LEVELS,
            "measure": measure,
            "measure_label": MEASURES[measure],
            "legend": [{"colour": c.colour, "label": _class_label(measure, c)} for c in legend],
            "rows": [{"area": a, "colour": colour_of(a.value, legend), "assisting": joined(a.assisting)} for a in rows],
            "drawing": drawing(data, legend, zoom=form.cleaned_data["view"] == "area"),
            "max_points": MAX_POINTS,
        }
    )
    return render(request, "atlas/map.html", context)


def dashboard_panel(request: HttpRequest) -> dict[str, Any]:
    """The dashboard's way to the map: a link, no query (the home counts its queries)."""
    return {}
