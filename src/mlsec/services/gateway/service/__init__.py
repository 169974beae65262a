"""The gateway's logic: platform views, unified predictions, events and live updates, each calling the services
through the SDK."""
