"""The English of texts that the demo and the synthetic data write into free-text fields.

Officials type a training's topic, a deployment's batch or an inspection's findings in their own words, in one
language, and that text is shown as typed. The demo (`pairings.demo`) and the synthetic projects
(`projects.synthetic`) write such fields too, from fixed tables of their own: those texts are stored in Chinese (the
system's first language, as `Region.name` beside `name_en`) and each app registers the English of its table here at
start-up, so that a page in English shows the English (`{{ text|in_language }}`, or `in_language(text)`) and a page
in Chinese the Chinese. A text not registered is shown as stored.
"""

from collections.abc import Iterable

from django.utils.translation import get_language

_ENGLISH: dict[str, str] = {}


def register(pairs: Iterable[tuple[str, str]]) -> None:
    """Register (Chinese, English) pairs of generated texts."""
    for chinese, english in pairs:
        _ENGLISH[chinese] = english


def in_language(text: str) -> str:
    """TEXT in the active language: its registered English on an English page, else as stored."""
    if text and (get_language() or "").startswith("en"):
        return _ENGLISH.get(text, text)
    return text


def english_of(text: str) -> str | None:
    """The registered English of TEXT, None when it has none (for tests and checks)."""
    return _ENGLISH.get(text)
