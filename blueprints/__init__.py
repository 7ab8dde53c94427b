"""One package per screen area; `htmx` decides page or fragment, `web` holds the request plumbing."""
