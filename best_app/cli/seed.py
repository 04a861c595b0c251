"""`flask seed`: realistic demo data, inserted in bulk.

Rows go in as multi-row INSERTs in batches (no ORM object per row), so
100,000 users with their cars and tasks take seconds, not minutes. Usernames
carry a number past the current highest user id, so running it again adds
more people instead of failing on unique constraints.
"""
import random
import sys

import click
from sqlalchemy import func, insert, select

from best_app.extensions import db
from best_app.models import ROLES, Car, Task, User

BATCH_SIZE = 5_000

FIRST_NAMES = ("Ada Alan Amara Ben Carla Chen Dana Diego Elena Emil Farah Finn Grace Hugo Ines Ivan Jana "
               "Jonas Kai Kira Lars Lea Malik Maya Nia Noah Olga Omar Paula Pedro Rosa Ravi Sara Sven "
               "Tara Tomas Uma Victor Wen Yara Yusuf Zoe").split()
LAST_NAMES = ("Andersen Baker Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kowalski Larsen "
              "Moreau Nakamura Novak Okafor Petrov Quinn Rossi Schmidt Silva Tanaka Ueda Varga "
              "Weber Xu Yilmaz Zimmermann").split()
CAR_MODELS = ("Toyota Corolla", "Volkswagen Golf", "Ford Focus", "Honda Civic", "Tesla Model 3",
              "Renault Clio", "Skoda Octavia", "BMW 3 Series", "Kia Ceed", "Hyundai i30",
              "Peugeot 208", "Volvo XC40", "Fiat 500", "Mazda 3", "Nissan Leaf", "Audi A4")
TASK_VERBS = ("Review", "Update", "Prepare", "Check", "Plan", "Write", "Fix", "Schedule", "Clean up", "Test")
TASK_OBJECTS = ("the quarterly report", "tyre change", "onboarding notes", "the parking rota",
                "service booking", "insurance papers", "team lunch", "the fuel card list",
                "course material", "exam schedule", "the lab inventory", "timesheets")


def _batches(total: int):
    done = 0
    while done < total:
        size = min(BATCH_SIZE, total - done)
        yield done, size
        done += size


def _insert_users(count: int, rng: random.Random, bar) -> list[int]:
    start = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    ids: list[int] = []
    for offset, size in _batches(count):
        rows = []
        for n in range(start + offset, start + offset + size):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            username = f"{first}.{last}.{n}".lower()
            rows.append({"username": username, "email": f"{username}@example.com",
                         "name": f"{first} {last}", "role": rng.choice(ROLES), "is_admin": False})
        result = db.session.execute(insert(User).returning(User.id, sort_by_parameter_order=True), rows)
        ids.extend(result.scalars())
        bar.update(size)
    return ids


def _insert_cars(owner_ids: list[int], per_user: int, rng: random.Random, bar) -> int:
    rows = [{"model": rng.choice(CAR_MODELS), "owner_id": owner}
            for owner in owner_ids for _ in range(per_user)]
    for offset, size in _batches(len(rows)):
        db.session.execute(insert(Car), rows[offset:offset + size])
        bar.update(size)
    return len(rows)


def _insert_tasks(count: int, assignee_ids: list[int], rng: random.Random, bar) -> int:
    for offset, size in _batches(count):
        rows = []
        for _ in range(size):
            # About one task in five is nobody's yet.
            assignee = rng.choice(assignee_ids) if assignee_ids and rng.random() > 0.2 else None
            rows.append({"title": f"{rng.choice(TASK_VERBS)} {rng.choice(TASK_OBJECTS)}",
                         "description": None, "done": rng.random() < 0.4, "assignee_id": assignee})
        db.session.execute(insert(Task), rows)
        bar.update(size)
    return count


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
    rng = random.Random(random_seed)
    total = user_count * (1 + cars_per_user) + task_count
    with click.progressbar(length=total, label="Seeding", file=sys.stderr) as bar:
        try:
            user_ids = _insert_users(user_count, rng, bar)
            if not user_ids:
                user_ids = list(db.session.scalars(select(User.id).limit(10_000)))
            cars = _insert_cars(user_ids[:user_count], cars_per_user, rng, bar) if user_count else 0
            tasks = _insert_tasks(task_count, user_ids, rng, bar)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
    click.echo(f"Seeded {user_count} users, {cars} cars and {tasks} tasks.")
