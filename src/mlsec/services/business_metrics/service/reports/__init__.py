"""Reports: what a period's business metrics say (content), drawn as JSON, CSV, HTML with charts and PDF, stored
and listed (store), and generated each day on a schedule (service/schedule.py)."""
