"""Business rules. Nothing here knows about HTTP: routes call these functions."""
