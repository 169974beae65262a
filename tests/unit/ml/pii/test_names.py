"""PERSON and LOCATION: names and places found, capitalised common words and sentence starts not, and the words
around a match raising or lowering it."""

from __future__ import annotations

import pytest

from mlsec.ml.pii import DEFAULT_TYPES, PiiEngine, scan
from mlsec.ml.pii.findings import LOCATION, PERSON
from mlsec.ml.pii.lexicon import lexicon
from mlsec.ml.pii.names import locations, persons

ENGINE = PiiEngine(types=(PERSON, LOCATION))


def found(text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in ENGINE.scan(text)]


def score(findings: list[tuple[str, float]], value: str) -> float:
    return next(s for v, s in findings if v == value)


def person_scores(text: str) -> list[tuple[str, float]]:
    return [(text[f.start : f.end], f.score) for f in persons(text)]


def location_scores(text: str) -> list[tuple[str, float]]:
    return [(text[f.start : f.end], f.score) for f in locations(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The invoice was approved by Maria Gonzalez yesterday.", "Maria Gonzalez"),
        ("Please forward it to Ella H. Snider before noon.", "Ella H. Snider"),
        ("I spoke with Mr. Kowalczyk about the refund.", "Kowalczyk"),
        ("Hi Christin, I have a problem with my account", "Christin"),
        ("My name is Vinka and I need help", "Vinka"),
        ("What's your last name? Magnusson", "Magnusson"),
        ("They had three children: Anna, Matheus and Kevin.", "Matheus"),
        ("Here is Matej's address", "Matej"),
    ],
)
def test_people_are_found(text: str, value: str) -> None:
    assert (PERSON, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Will you send the report today?",  # a first name that is a common word, at a sentence start
        "May I ask a question about the invoice?",
        "Mark the ticket as done.",
        "Hope this helps, see the attached file.",
        "The Jones report is due on Friday.",  # a surname after "the": a thing named after someone
        "Our office is at 5533 Countess Close, on the corner.",  # a street, with its house number
        "Send it to Russell Investments Inc by Monday.",  # a company
        "The Quick Brown Fox jumps over the lazy dog",
    ],
)
def test_capitalised_words_and_sentence_starts_are_no_people(text: str) -> None:
    assert PERSON not in {kind for kind, _ in found(text)}


def test_a_lone_first_name_needs_a_cue_where_it_is_also_a_word() -> None:
    assert (PERSON, "Rose") not in found("Rose petals were everywhere.")
    assert (PERSON, "Rose") in found("My daughter is called Rose.")


def test_context_raises_and_lowers_a_person() -> None:
    plain = score(person_scores("I met Sandra yesterday."), "Sandra")
    assert score(person_scores("Her name is Sandra, I met her yesterday."), "Sandra") > plain
    assert score(person_scores("The company Sandra is based on the avenue."), "Sandra") < plain


def test_a_title_makes_a_name_whatever_the_lists_say() -> None:
    assert (PERSON, "Xylophanes") in found("Please ask Dr. Xylophanes for the results.")


def test_lower_case_names_only_right_after_a_naming_cue() -> None:
    assert (PERSON, "codey m ross") in found("hello, my name is codey m ross")
    assert PERSON not in {kind for kind, _ in found("the codey thing broke again")}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("I will be travelling to Canada next week.", "Canada"),
        ("She moved here from Hungary in 2010.", "Hungary"),
        ("The conference is in Amsterdam this year.", "Amsterdam"),
        ("We opened an office in Czech Republic.", "Czech Republic"),
        ("My friend lives in Kenosha.", "Kenosha"),
        ("Mr. Leiva flew to Niitabury on Tuesday.", "Niitabury"),  # unknown, right after "flew to"
        ("Our customers in New Zealand and South Africa", "New Zealand"),
    ],
)
def test_places_are_found(text: str, value: str) -> None:
    assert (LOCATION, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mobile: 555 0100",  # a city in Alabama, here a label
        "Please Reading the manual first.",  # a town in England, here a verb
        "The CO and the AP were both informed.",  # abbreviations, not places
        "Lucid and Loveland Technologies signed the contract.",  # a company named after a place
        "Nice work on the report!",
    ],
)
def test_capitalised_words_and_sentence_starts_are_no_places(text: str) -> None:
    assert LOCATION not in {kind for kind, _ in found(text)}


def test_context_raises_and_lowers_a_place() -> None:
    plain = score(location_scores("Paris was lovely."), "Paris")
    assert score(location_scores("She was born in Paris."), "Paris") > plain
    assert score(location_scores("Ask Mr. Smith and Paris about it"), "Paris") <= plain


def test_a_place_that_is_also_a_first_name_needs_a_cue() -> None:
    assert (LOCATION, "Victoria") not in found("You picked a fine time to leave me Victoria, four hungry children")
    assert (LOCATION, "Victoria") in found("We spent the winter in Victoria.")


def test_a_surname_after_a_first_name_is_no_place() -> None:
    assert found("Marta Palermo signed the form.") == [(PERSON, "Marta Palermo")]


def test_names_and_places_are_asked_for_by_name() -> None:
    text = "Maria Gonzalez moved to Canada."
    assert PERSON not in DEFAULT_TYPES and LOCATION not in DEFAULT_TYPES
    assert scan(text) == []
    assert {f.type for f in PiiEngine(types=(*DEFAULT_TYPES, PERSON, LOCATION)).scan(text)} == {PERSON, LOCATION}


def test_the_lists_load_once_from_package_data() -> None:
    lists = lexicon()
    assert lists is lexicon()
    assert {"maria", "kevin"} <= lists.first_names
    assert {"canada", "amsterdam", "new zealand"} <= lists.places
    assert "canada" in lists.major_places
    assert "will" in lists.common_words
    assert lists.size > 100_000
