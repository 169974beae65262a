"""The business metrics service (port 8004): KPI time series and reports."""
