"""Infrastructure every service shares; imports no service."""
