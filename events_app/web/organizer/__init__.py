"""The organizer workspace, served under /organizer behind login.

The package is kept import-free: `web.auth` imports `organizer.urls`, so the route table that
joins every module (`organizer.routes`) lives in its own module rather than here.
"""
