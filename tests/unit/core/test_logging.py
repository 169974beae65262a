"""JSON log lines never carry a credential that arrived in a URL's query string."""

from __future__ import annotations

import json
import logging

from mlsec.core.logging import JsonFormatter


def test_tokens_in_logged_urls_are_redacted() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/ws?topic=health&token=mlsec_0123456789ab_secretsecret&API_KEY=k1"),
        None,
    )
    line = json.loads(JsonFormatter("gateway").format(record))
    assert "secretsecret" not in line["event"] and "k1" not in line["event"]
    assert line["event"] == '127.0.0.1:5000 - "WebSocket /ws?topic=health&token=***&API_KEY=***" [accepted]'
