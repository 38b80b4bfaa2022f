"""Group room names by topic and language (chatserver/room_names.py), and the small pure
parts of the language feature: a locale's primary language, a stored need, bounded
metric labels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from chatserver.features.moderation import topic_of
from chatserver.features.support_language import need_of, primary
from chatserver.observability import MAX_LANGUAGE_LABELS, Metrics
from chatserver.room_names import RoomNames, series

NAMES = RoomNames(topics={"grief", "anxiety"}, default="en", languages={"es", "pt"})
codes = st.from_regex(r"[a-z]{2,3}", fullmatch=True)


def pick(requested: str, language: str | None, seeker: bool = True, n: int = 3) -> list[str]:
    rooms = NAMES.candidates(requested, language, seeker=seeker)
    assert rooms is not None, requested
    return rooms[:n]


def test_a_topic_in_a_language_with_rooms_and_the_kind_fallback() -> None:
    assert pick("grief", "es") == ["grief@es", "grief@es-2", "grief@es-3"]
    assert pick("grief", "fr", n=2) == ["grief", "grief-2"]
    assert pick("grief", None, n=1) == pick("grief", "en", n=1) == ["grief"]
    assert pick("grief", "es", seeker=False) == ["grief@es"]  # listeners: exactly that
    assert pick("grief@es-2", None) == ["grief@es-2"]
    assert pick("grief@pt", "es", n=1) == ["grief@pt"]  # a room that names one wins


def test_names_that_are_no_group_room() -> None:
    for bad in ("grief@fr", "grief@en", "sorrow", "sorrow@es", "p-0a1b2c3d4e5f", "Grief", ""):
        assert NAMES.candidates(bad, "es", seeker=True) is None, bad
        assert NAMES.language(bad) is None, bad


@given(topic=st.sampled_from(["grief", "anxiety"]), lang=st.none() | codes)
def test_every_candidate_is_held_in_the_language_it_was_picked_for(
    topic: str, lang: str | None
) -> None:
    rooms = NAMES.candidates(topic, lang, seeker=True)
    assert rooms is not None and len(rooms) == 1000
    held = lang if lang in ("es", "pt") else "en"
    assert {NAMES.language(r) for r in rooms} == {held}
    assert {series(r) for r in rooms} == {rooms[0]}
    assert {topic_of(r) for r in rooms} == {topic}  # moderation's cool-downs cover them all


def test_primary_language_and_need() -> None:
    assert primary("es-MX") == "es" and primary("pt_BR") == "pt" and primary("fil") == "fil"
    assert primary(None) is None and primary("") is None and primary("e") is None
    assert primary("español") is None
    assert need_of("listen") == "listen" and need_of("ideas") == "ideas"
    assert need_of(None) is None and need_of("advice") is None


def test_language_labels_are_bounded() -> None:
    metrics = Metrics()
    seen = {metrics.language(f"l{i:02d}"[:3]) for i in range(MAX_LANGUAGE_LABELS + 10)}
    assert len(seen) == MAX_LANGUAGE_LABELS + 1 and "other" in seen
    assert metrics.language("l00") == "l00"  # a known one keeps its code
