"""The terminal view of a service's JSON log lines."""

from mlsec.launcher.logview import LineSplitter, render_line


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


def test_splitter_joins_chunks_into_lines() -> None:
    splitter = LineSplitter(max_bytes=100)
    assert splitter.feed(b"one\ntw") == [b"one"]
    assert splitter.feed(b"o\nthr") == [b"two"]
    assert splitter.close() == [b"thr"]


def test_splitter_cuts_an_overlong_line_once_and_drops_its_rest() -> None:
    splitter = LineSplitter(max_bytes=4)
    assert splitter.feed(b"abcdefgh") == [b"abcd" + LineSplitter.MARK]
    assert splitter.feed(b"ijkl") == []
    assert splitter.feed(b"mn\nok\n") == [b"ok"]
    assert splitter.feed(b"toolong\n") == [b"tool" + LineSplitter.MARK]
