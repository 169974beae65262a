"""The terminal view of a service's JSON log lines."""

from mlsec.launcher.logview import render_line


def test_json_lines_become_one_short_line() -> None:
    raw = (
        '{"ts": "2026-01-02T03:04:05.678+00:00", "level": "INFO", "service": "gateway", "logger": "mlsec.http", '
        '"event": "http.request", "status": 200, "color_message": "x"}\n'
    )
    assert render_line(raw) == "03:04:05 INFO  http.request status=200"


def test_other_lines_pass_through() -> None:
    assert render_line("MLflow server starting\n") == "MLflow server starting"
    assert render_line("{not json") == "{not json"
    assert render_line("[1, 2]") == "[1, 2]"
