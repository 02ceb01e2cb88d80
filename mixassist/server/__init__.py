"""The web service (``mixassist serve``): upload page, SQLite job queue, workers, REST API.

Needs the ``server`` extra (fastapi, uvicorn, python-multipart).
"""

from .app import Settings, create_app

__all__ = ["Settings", "create_app"]
