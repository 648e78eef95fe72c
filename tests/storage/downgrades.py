"""Taking a test archive back to an older schema revision, as an operator's Alembic would."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from storage.engine import writer
from storage.migrate import script_location


def downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", script_location())
    with writer(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
