"""The gateway (port 8007): the API gateway, the hub of live events, and the web dashboard."""
