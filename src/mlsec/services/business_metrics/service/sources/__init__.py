"""What the collector reads from the other services, one module per kind of source."""
