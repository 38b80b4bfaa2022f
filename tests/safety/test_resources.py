"""Crisis resources: every supported locale gets its own lines plus the directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatserver.safety.resources import ResourceFileError, load_resources, resources_for

REQUIRED = ["US", "GB", "CA", "AU", "IE", "ES", "MX", "FR", "DE", "AT", "CH", "BR", "PT", "IT",
            "NL"]


@pytest.mark.parametrize("country", REQUIRED)
def test_every_required_country_has_a_line(country: str) -> None:
    lines = load_resources().countries[country]
    assert any(r.kind == "crisis_line" and (r.phone or r.sms) for r in lines)


@pytest.mark.parametrize(
    ("locale", "first_phone"),
    [("en-US", "988"), ("en-GB", "116 123"), ("en_gb", "116 123"), ("pt-BR", "188"),
     ("de-AT", "142"), ("fr-CH", "143"), ("es-MX", "800 911 2000"), ("es", "024"),
     ("pt", "188"), ("nl", "113")],
)
def test_locale_lookup(locale: str, first_phone: str) -> None:
    res = resources_for(locale)
    assert res[0].phone == first_phone
    assert res[-1].url == "https://findahelpline.com"


@pytest.mark.parametrize("locale", [None, "", "xx", "zz-ZZ", "klingon", "123"])
def test_unknown_locale_gets_the_international_directory(locale: str | None) -> None:
    res = resources_for(locale)
    assert [r.kind for r in res] == ["directory"]


def test_malformed_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"countries": {"US": [{"phone": "1"}]}}')
    with pytest.raises(ResourceFileError):
        load_resources(bad)
