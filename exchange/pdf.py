"""HTML to PDF with WeasyPrint, reading nothing but the project's own files.

Kept apart from exchange/reports.py so that checking a report before it is queued (in a web process) never loads
WeasyPrint and Pango: only the worker that makes the file does.

`LocalFetcher` is the only way WeasyPrint reads a resource here. It answers `file://` URLs under the project's
static and media directories, and `duikou-photo:<id>` for the photos the report embeds (read from the storage,
whatever backend it is, and scaled down); anything else (http, https, ftp, data, a file elsewhere on the disk)
is refused, so a stray URL in a template, or in what a user typed, never reaches the network."""

import io
from collections.abc import Mapping
from pathlib import Path
from urllib.request import url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from projects.models import Document

#: The report's stylesheet (the page rules, which carry translated words, are in the report's template).
STYLESHEET = "duikou/report.css"
#: The URL scheme of a photo read from the storage by id (only the photos the report registered answer).
PHOTO_SCHEME = "duikou-photo"
#: A photo's longest side in the PDF, in pixels: phone photos of 20 MB each would make a dossier of hundreds.
PHOTO_MAX_PIXELS = 1600
#: The photos WeasyPrint can draw (the uploads accept these two: projects.services.ALLOWED_TYPES).
PHOTO_TYPES = ("image/jpeg", "image/png")


def photo_url(document: Document) -> str | None:
    """The URL a report's template gives the photo DOCUMENT, or None when it is not an image to draw."""
    return f"{PHOTO_SCHEME}:{document.pk}" if document.content_type in PHOTO_TYPES else None


def _roots() -> list[Path]:
    """The directories a report may read files from: the project's static files and the media."""
    dirs = [Path(d if isinstance(d, str | Path) else d[1]) for d in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        dirs.append(Path(settings.STATIC_ROOT))
    dirs.append(Path(settings.MEDIA_ROOT))
    return [d.resolve() for d in dirs]


class LocalFetcher(URLFetcher):
    """WeasyPrint's fetcher for a report: the project's own files and PHOTOS (URL → document), nothing else."""

    def __init__(self, photos: Mapping[str, Document] | None = None) -> None:
        super().__init__(allowed_protocols=("file", PHOTO_SCHEME))
        self.roots = _roots()
        self.photos = dict(photos or {})

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if url in self.photos:
            return URLFetcherResponse(url, _scaled(self.photos[url]), {"Content-Type": "image/jpeg"})
        if url.startswith("file://"):
            path = Path(url2pathname(url.removeprefix("file://").split("?", 1)[0].split("#", 1)[0])).resolve()
            if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": _media_type(path)})
        raise ValueError(f"A report reads only the project's own files: {url[:200]}")


def _media_type(path: Path) -> str:
    return {
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
    }.get(path.suffix.lower(), "application/octet-stream")


def _scaled(document: Document) -> bytes:
    """DOCUMENT's image as a JPEG no larger than PHOTO_MAX_PIXELS on its longest side. Pillow decodes it: a file
    that is not the image it claims to be (or a decompression bomb) raises, and WeasyPrint leaves it out."""
    from PIL import Image

    with document.file.open("rb") as f, Image.open(f) as image:
        image.thumbnail((PHOTO_MAX_PIXELS, PHOTO_MAX_PIXELS))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def write_pdf(html: str, *, photos: Mapping[str, Document] | None = None) -> bytes:
    """HTML (a whole document) as PDF bytes, with the report stylesheet; relative URLs resolve in static/."""
    fetcher = LocalFetcher(photos)
    stylesheet = CSS(filename=str(finders.find(STYLESHEET)), url_fetcher=fetcher)
    base = Path(settings.BASE_DIR, "static").resolve().as_uri() + "/"
    return HTML(string=html, base_url=base, url_fetcher=fetcher).write_pdf(stylesheets=[stylesheet])
