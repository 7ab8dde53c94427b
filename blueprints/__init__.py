"""One package per screen area. In each, blueprint.py holds the Blueprint, one module renders each
dialog or page (setup/steps.py, inbox/pages.py, settings/card.py, compose/dialog.py) and the route
modules import it, never each other. Shared by all: `web` (request plumbing), `htmx` (page or
fragment, and every HX-* response header), `security` (limits, and every policy header), `explain`,
`dates`."""
