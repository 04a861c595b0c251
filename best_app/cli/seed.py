"""`flask seed`: realistic demo data, inserted in bulk, in one transaction.

On PostgreSQL the rows stream in through COPY (best_app.cli.seed_copy): a
million users with a car each and a million tasks in well under a minute.
Elsewhere (SQLite) they go in as multi-row INSERTs in batches, with no ORM
object per row. Either way:
- usernames and emails carry the user's number, past every id in use, so
  running it again adds more people instead of failing on unique constraints;
- seeded users have no password (they cannot log in) and are not admins;
- the change log records nothing of it (bulk inserts are not recorded, see
  docs/history.md), and the cached reads of the tables it wrote are
  invalidated once it commits;
- users.car_count is right when it commits.
"""
import random
import sys

import click
from sqlalchemy import func, insert, select

from best_app.cli.demo_rows import DemoRows, existing_assignees
from best_app.cli.seed_copy import CopyLoader
from best_app.extensions import db
from best_app.models import Car, Task, User


def _insert_all(data: DemoRows, user_count: int, cars_per_user: int, task_count: int, bar) -> None:
    """Multi-row INSERTs through the session: the portable way (SQLite). The
    car_count triggers fire per car; the commit's hooks invalidate the cache."""
    first = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    user_ids: list[int] = []
    for rows in data.users(first, user_count):
        values = [{"username": username, "email": email, "name": name, "role": role, "is_admin": False}
                  for _number, username, email, name, role in rows]
        result = db.session.execute(insert(User).returning(User.id, sort_by_parameter_order=True), values)
        user_ids.extend(result.scalars())
        bar.update(len(rows))
    owners = [owner for owner in user_ids for _ in range(cars_per_user)]
    position = 0
    for models in data.car_models(len(owners)):
        db.session.execute(insert(Car), [{"model": model, "owner_id": owner}
                                         for model, owner in zip(models, owners[position:])])
        position += len(models)
        bar.update(len(models))
    for rows in data.tasks(task_count, user_ids or existing_assignees()):
        db.session.execute(insert(Task), [{"title": title, "description": None, "done": done, "assignee_id": who}
                                          for title, done, who in rows])
        bar.update(len(rows))


@click.command("seed")
@click.option("--users", "user_count", default=50, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--cars-per-user", default=1, show_default=True, type=click.IntRange(0, 100))
@click.option("--tasks", "task_count", default=100, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--random-seed", type=int, help="Make the generated data repeatable.")
@click.option("--if-empty", is_flag=True, help="Do nothing when there are users already.")
def seed_command(user_count: int, cars_per_user: int, task_count: int, random_seed: int | None,
                 if_empty: bool):
    """Insert demo users, their cars and tasks, in one transaction."""
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("The database has users already; not seeding.", err=True)
        return
    data = DemoRows(random.Random(random_seed))
    total = user_count * (1 + cars_per_user) + task_count
    copying = db.session.connection().dialect.name == "postgresql"
    try:
        with click.progressbar(length=total, label="Seeding", file=sys.stderr) as bar:
            if copying:
                loader = CopyLoader(data, user_count, cars_per_user, task_count)
                loader.load(bar)
            else:
                _insert_all(data, user_count, cars_per_user, task_count, bar)
        if copying:
            with click.progressbar(loader.finishing_steps(), label="Indexing and analysing",
                                   file=sys.stderr) as steps:
                for step in steps:
                    loader.finish(step)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if copying:
        loader.committed()
    click.echo(f"Seeded {user_count} users, {user_count * cars_per_user} cars and {task_count} tasks.")
