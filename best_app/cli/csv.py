"""`flask import RESOURCE FILE` and `flask export RESOURCE [FILE]`: CSV files of any resource.

An import validates every row with the resource's form and applies them all
in one transaction, or none: with any error nothing is written, the errors
are listed with their line and field, and the exit status is 1.
"""
from __future__ import annotations

import sys

import click
from flask import current_app

from best_app.csvio.export import csv_chunks
from best_app.csvio.importer import import_rows
from best_app.csvio.reader import FileProblem, read_csv
from best_app.extensions import db
from best_app.resources import REGISTRY
from best_app.resources.query import ListQuery

RESOURCE = click.Choice(list(REGISTRY))


@click.command("import")
@click.argument("resource_name", metavar="RESOURCE", type=RESOURCE)
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Validate and report what would change; write nothing.")
@click.option("--overwrite", is_flag=True, help="Update rows even if they changed since the file was exported.")
def import_command(resource_name: str, file, dry_run: bool, overwrite: bool):
    """Create and update RESOURCE rows from a CSV FILE (as `flask export` writes), all or nothing."""
    resource = REGISTRY[resource_name]
    limit = current_app.config["CSV_IMPORT_MAX_BYTES"]
    try:
        data = read_csv(resource, file.read(limit + 1), limit)
        with click.progressbar(length=len(data.rows), label="Importing", file=sys.stderr) as bar:
            plan = import_rows(resource, data, dry_run=dry_run, overwrite=overwrite, progress=bar.update)
    except FileProblem as problem:
        db.session.rollback()
        raise click.ClickException(problem.message) from None
    for error in plan.errors:
        click.echo(str(error), err=True)
    if plan.error_count > len(plan.errors):
        click.echo(f"... and {plan.error_count - len(plan.errors)} more errors (the first "
                   f"{len(plan.errors)} are listed).", err=True)
    if plan.ok and not dry_run:
        db.session.commit()
    else:
        db.session.rollback()
    click.echo(plan.summary())
    if not plan.ok:
        sys.exit(1)


@click.command("export")
@click.argument("resource_name", metavar="RESOURCE", type=RESOURCE)
@click.argument("file", type=click.File("wb"), default="-")
def export_command(resource_name: str, file):
    """Write every RESOURCE row as CSV to FILE (default: standard output), sorted by id."""
    for chunk in csv_chunks(REGISTRY[resource_name], ListQuery()):
        file.write(chunk)
    db.session.rollback()
