"""The demo rows `flask seed` writes: random but plausible values, a batch at a time."""
import random

from sqlalchemy import select

from best_app.extensions import db
from best_app.models import ROLES, User

BATCH_SIZE = 5_000
# Tasks of a seed that adds no users go to some of the people already there.
EXISTING_ASSIGNEES = 10_000

# Plain ASCII letters, dots and spaces only: the handles make valid usernames and emails.
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
TASK_TITLES = tuple(f"{verb} {obj}" for verb in TASK_VERBS for obj in TASK_OBJECTS)
PEOPLE = tuple((f"{first} {last}", f"{first}.{last}".lower()) for first in FIRST_NAMES for last in LAST_NAMES)


def batches(total: int):
    """(offset, size) of each batch of `total` rows."""
    done = 0
    while done < total:
        size = min(BATCH_SIZE, total - done)
        yield done, size
        done += size


class DemoRows:
    """The random values of the demo rows, a batch at a time, for either way of loading them."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def users(self, first_number: int, count: int):
        """Batches of (number, username, email, name, role); `number` makes the names unique."""
        for offset, size in batches(count):
            number = first_number + offset
            rows = []
            for (name, handle), role in zip(self.rng.choices(PEOPLE, k=size), self.rng.choices(ROLES, k=size)):
                username = f"{handle}.{number}"
                rows.append((number, username, f"{username}@example.com", name, role))
                number += 1
            yield rows

    def car_models(self, count: int):
        for _offset, size in batches(count):
            yield self.rng.choices(CAR_MODELS, k=size)

    def tasks(self, count: int, assignees):
        """Batches of (title, done, assignee id or None); about one task in five is nobody's yet."""
        rng = self.rng
        for _offset, size in batches(count):
            titles = rng.choices(TASK_TITLES, k=size)
            people = rng.choices(assignees, k=size) if assignees else [None] * size
            yield [(title, rng.random() < 0.4, person if rng.random() > 0.2 else None)
                   for title, person in zip(titles, people)]


def existing_assignees() -> list[int]:
    return list(db.session.scalars(select(User.id).order_by(User.id).limit(EXISTING_ASSIGNEES)))
