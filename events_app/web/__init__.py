"""HTTP layer: thin Starlette routes that parse input, call a service, and render."""
