"""Business rules. Nothing here knows about HTTP: routes call these functions."""

# Registers the Session events that bump the data version on every write that shows in public
# output, whichever service (or test, or CLI command) writes: see services/data_version.py.
from events_app.services import data_version  # noqa: F401
