"""Live updates on `/ws`: the message protocol, one client, the topic index, the manager that fans the hub's
events out to the clients, and its Prometheus metrics (docs/websocket.md)."""
