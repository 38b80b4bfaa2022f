"""Crisis lines by country, read from an editable JSON file.

The numbers live in ``resources.json`` beside this module, not in code, so that a volunteer
coordinator can correct a line without touching Python. ``resources_for(locale)`` picks the
lines for a BCP 47-ish locale ("en-GB", "pt_BR", "es") and always appends the international
directory, so nobody is ever shown an empty list: an unknown or missing locale gets the
directory and the generic emergency hint (112) alone; a country that lists its own
emergency number does not get the generic one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

__all__ = ["DEFAULT_RESOURCES_PATH", "Resource", "ResourceBook", "load_resources", "resources_for"]

DEFAULT_RESOURCES_PATH = Path(__file__).with_name("resources.json")
_LOCALE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|\d{3}))?")


class ResourceFileError(ValueError):
    """The resources file is malformed (our data, not the peer's)."""


@dataclass(frozen=True, slots=True)
class Resource:
    """One place a person can reach right now."""

    name: str
    country: str | None = None  # ISO 3166-1 alpha-2, None for international
    phone: str | None = None
    sms: str | None = None
    url: str | None = None
    kind: str = "crisis_line"  # crisis_line | emergency | directory


@dataclass(frozen=True, slots=True)
class ResourceBook:
    """The parsed file: lines per country, the language fallback and the default."""

    countries: Mapping[str, tuple[Resource, ...]]
    languages: Mapping[str, str]
    default: tuple[Resource, ...]

    def phone_digits(self) -> frozenset[str]:
        """Every phone/SMS number as bare digits (the PII filter never redacts these)."""
        out: set[str] = set()
        for res in (*self.default, *(r for rs in self.countries.values() for r in rs)):
            for value in (res.phone, res.sms):
                digits = "".join(ch for ch in value or "" if ch.isdigit())
                if len(digits) >= 3:
                    out.add(digits)
        return frozenset(out)

    def for_locale(self, locale: str | None) -> tuple[Resource, ...]:
        """Lines for ``locale`` followed by the international default."""
        country: str | None = None
        if locale:
            m = _LOCALE.match(locale)
            if m:
                lang, region = m.group(1).lower(), m.group(3)
                if region and region.upper() in self.countries:
                    country = region.upper()
                else:
                    country = self.languages.get(lang)
        own = self.countries.get(country, ()) if country else ()
        if any(r.kind == "emergency" for r in own):  # the country's own number wins
            return (*own, *(r for r in self.default if r.kind != "emergency"))
        return (*own, *self.default)


def _resource(raw: Any, country: str | None) -> Resource:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ResourceFileError("each resource needs a string 'name'")
    fields = {k: raw[k] for k in ("phone", "sms", "url", "kind") if k in raw}
    for key, value in fields.items():
        if not isinstance(value, str):
            raise ResourceFileError(f"resource field {key!r} must be a string")
    return Resource(name=raw["name"], country=country, **fields)


@functools.lru_cache(maxsize=8)
def load_resources(path: Path | str | None = None) -> ResourceBook:
    """Parse the resources file (cached per path). Raises ``ResourceFileError`` if malformed."""
    file = Path(path) if path is not None else DEFAULT_RESOURCES_PATH
    try:
        data = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ResourceFileError(f"cannot read resources file {file}") from exc
    if not isinstance(data, dict):
        raise ResourceFileError("resources file must hold a JSON object")
    countries = {
        str(code).upper(): tuple(_resource(r, str(code).upper()) for r in rows)
        for code, rows in dict(data.get("countries", {})).items()
    }
    languages = {str(k).lower(): str(v).upper() for k, v in dict(data.get("languages", {})).items()}
    default = tuple(_resource(r, None) for r in data.get("default", []))
    return ResourceBook(countries=countries, languages=languages, default=default)


def resources_for(locale: str | None, path: Path | str | None = None) -> tuple[Resource, ...]:
    """Crisis lines for ``locale`` ("en-GB", "es", "pt-BR"), international directory last."""
    return load_resources(path).for_locale(locale)
