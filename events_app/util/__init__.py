"""Small helpers with no knowledge of the app's data: usable from every layer."""
