"""Files a refused form keeps: an official who attached a photo to a form with a mistake elsewhere fixes the mistake
and saves, without choosing the photo again.

On a refused POST the view keeps each uploaded file in the storage under `kept/<user>/<token>/` and remembers it in
the session (token → path, name, field); the form then carries the token in a hidden `<field>_kept` input and the
page says the file is kept. On the next POST without a new file for that field, the kept file is put back into the
request's files before the form is read. Only the session that uploaded a file can use its token; kept files are
deleted once the form goes through, and `sweep` (an hourly task) deletes those nobody came back for.
"""

import contextlib
import datetime as dt
import os
import uuid
from typing import Any, cast

from django.core.files.base import File
from django.core.files.storage import Storage, default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

SESSION_KEY = "kept_uploads"
FOLDER = "kept"


def _kept(request: HttpRequest) -> dict[str, dict[str, Any]]:
    return dict(request.session.get(SESSION_KEY, {}))


def restore(request: HttpRequest, field_names: list[str]) -> "MultiValueDict[str, UploadedFile]":
    """The request's files, with each of FIELD_NAMES the form left empty filled from the file it kept before."""
    files = request.FILES.copy()
    kept = _kept(request)
    for name in field_names:
        token = request.POST.get(f"{name}_kept", "")
        entry = kept.get(token)
        if name in files or not entry or entry["field"] != name or not default_storage.exists(entry["path"]):
            continue
        handle = default_storage.open(entry["path"], "rb")
        files[name] = UploadedFile(
            file=File(handle).file,
            name=entry["name"],
            content_type=entry.get("content_type") or "application/octet-stream",
            size=entry["size"],
        )
    return files


def keep(request: HttpRequest, files: "MultiValueDict[str, UploadedFile]") -> dict[str, dict[str, Any]]:
    """Keep the uploaded FILES of a refused form; returns, by field, the token and the file's name to show."""
    kept = _kept(request)
    shown: dict[str, dict[str, Any]] = {}
    user_id = getattr(request.user, "pk", None) or 0
    for name in files:
        upload = cast(UploadedFile, files[name])
        previous = request.POST.get(f"{name}_kept", "")
        if previous in kept and kept[previous]["field"] == name and name not in request.FILES:
            shown[name] = {"token": previous, "name": kept[previous]["name"]}
            continue
        token = uuid.uuid4().hex
        upload.seek(0)
        path = default_storage.save(f"{FOLDER}/{user_id}/{token}/{upload.name}", upload)
        kept[token] = {
            "path": path,
            "name": upload.name,
            "field": name,
            "size": upload.size,
            "content_type": getattr(upload, "content_type", ""),
        }
        shown[name] = {"token": token, "name": upload.name}
    request.session[SESSION_KEY] = kept
    return shown


def discard(request: HttpRequest) -> None:
    """Delete the files this session kept (the form they were kept for went through)."""
    kept = _kept(request)
    for token in [t for t, e in kept.items() if request.POST.get(f"{e['field']}_kept") == t]:
        default_storage.delete(kept.pop(token)["path"])
    request.session[SESSION_KEY] = kept


def sweep(older_than: dt.timedelta, storage: Storage | None = None) -> int:
    """Delete every kept file last written more than OLDER_THAN ago (a form its official never came back to), and
    the folders left empty on a storage with local paths. Returns how many files were deleted."""
    storage = storage or default_storage
    cutoff = timezone.now() - older_than
    return _sweep(storage, FOLDER, cutoff)


def _sweep(storage: Storage, folder: str, cutoff: dt.datetime) -> int:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in folders:
        deleted += _sweep(storage, f"{folder}/{name}", cutoff)
    for name in files:
        path = f"{folder}/{name}"
        try:
            if storage.get_modified_time(path) < cutoff:
                storage.delete(path)
                deleted += 1
        except FileNotFoundError:  # deleted meanwhile (the form went through)
            continue
    if folder != FOLDER:
        _remove_if_empty(storage, folder)
    return deleted


def _remove_if_empty(storage: Storage, folder: str) -> None:
    try:
        path = storage.path(folder)
    except NotImplementedError:  # a storage without folders of its own (object storage)
        return
    with contextlib.suppress(OSError):  # not empty (a file kept meanwhile), or gone already
        os.rmdir(path)
