"""Crisis resources: every supported locale gets its own lines plus the directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.safety.resources import ResourceFileError, load_resources, resources_for

REQUIRED = ["US", "GB", "CA", "AU", "IE", "ES", "MX", "FR", "DE", "AT", "CH", "BR", "PT", "IT",
            "NL", "BE", "PL", "RU", "AR", "CL"]
# Every language the corpus and model cover maps to a country with its own lines.
LANGUAGES = ["en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "ru"]


@pytest.mark.parametrize("country", REQUIRED)
def test_every_required_country_has_a_line(country: str) -> None:
    lines = load_resources().countries[country]
    assert any(r.kind == "crisis_line" and (r.phone or r.sms) for r in lines)


@pytest.mark.parametrize(
    ("locale", "first_phone"),
    [("en-US", "988"), ("en-GB", "116 123"), ("en_gb", "116 123"), ("pt-BR", "188"),
     ("de-AT", "142"), ("fr-CH", "143"), ("es-MX", "800 911 2000"), ("es", "024"),
     ("pt", "188"), ("nl", "113"), ("pl", "116 123"), ("ru", "8 800 2000 122"), ("tr", "112"),
     ("nl-BE", "1813"), ("es-AR", "135")],
)
def test_locale_lookup(locale: str, first_phone: str) -> None:
    res = resources_for(locale)
    assert res[0].phone == first_phone
    assert res[-1].url == "https://findahelpline.com"
    assert sum(r.kind == "emergency" for r in res) == 1  # own number, no generic duplicate


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_covered_language_has_a_country_and_an_emergency_number(lang: str) -> None:
    book = load_resources()
    assert lang in book.languages
    res = resources_for(lang)
    assert res[0].country == book.languages[lang]
    assert any(r.kind == "emergency" and r.phone for r in res)


@pytest.mark.parametrize("locale", [None, "", "xx", "zz-ZZ", "klingon", "123"])
def test_unknown_locale_gets_the_directory_and_the_emergency_hint(locale: str | None) -> None:
    res = resources_for(locale)
    assert [r.kind for r in res] == ["directory", "emergency"]
    assert res[1].phone == "112"


def test_malformed_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"countries": {"US": [{"phone": "1"}]}}')
    with pytest.raises(ResourceFileError):
        load_resources(bad)
