"""The business-metrics service's logic: collection, rollups, KPIs, SLAs, trends and reports."""
