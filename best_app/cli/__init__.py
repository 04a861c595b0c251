"""Operator commands: `flask users`, `flask tokens`, `flask seed`, `flask wait-for-db`,
`flask ensure-admin`, `flask audit`, `flask history`, `flask import`, `flask export`.

Each command owns its transaction: it commits once at the end, and on any
error rolls back, prints one line and exits with status 1.
"""
from flask import Flask

from best_app.cli.audit import audit_cli
from best_app.cli.csv import export_command, import_command
from best_app.cli.history import history_cli
from best_app.cli.ops import ensure_admin_command, wait_for_db_command
from best_app.cli.seed import seed_command
from best_app.cli.tokens import tokens_cli
from best_app.cli.users import users_cli


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(wait_for_db_command)
    app.cli.add_command(ensure_admin_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(history_cli)
    app.cli.add_command(import_command)
    app.cli.add_command(export_command)
