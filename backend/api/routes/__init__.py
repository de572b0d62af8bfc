"""One module per resource of the HTTP API; ``backend.api.app`` mounts them."""
