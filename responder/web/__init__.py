"""The operator console (issue 16): server-rendered pages over the same core as the CLI.

``app`` builds the ASGI application, ``auth`` holds accounts, roles and the
login limit, ``csrf`` the form tokens, ``queries`` what pages read, ``views``
the pages, ``actions`` the forms, ``server`` runs it under uvicorn.
"""

from responder.web.app import create_app

__all__ = ["create_app"]
