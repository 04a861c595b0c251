"""flask seed: what it writes and leaves behind, on SQLite (INSERTs) and PostgreSQL (COPY)."""
import pytest
from sqlalchemy import func, select, text

from best_app import caching
from best_app.cli.demo_rows import DemoRows
from best_app.extensions import db
from best_app.models import Car, Change, Task, User
from tests.conftest import USING_POSTGRES, make_car, make_task, make_user


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def seed(runner, users=30, cars_per_user=2, tasks=40):
    result = runner.invoke(args=["seed", "--users", str(users), "--cars-per-user", str(cars_per_user),
                                 "--tasks", str(tasks), "--random-seed", "3"])
    assert result.exit_code == 0, result.output
    return result


def wrong_car_counts() -> int:
    cars = select(func.count()).where(Car.owner_id == User.id).scalar_subquery()
    return db.session.scalar(select(func.count()).select_from(User).where(User.car_count != cars))


def schema_facts() -> set:
    """Every index, constraint and trigger (with whether it is enabled) of the seeded tables."""
    if not USING_POSTGRES:
        return set(db.session.execute(text("SELECT type, name FROM sqlite_master WHERE tbl_name IN "
                                           "('users', 'cars', 'tasks')")).all())
    return set(db.session.execute(text(
        "SELECT 'index', indexdef FROM pg_indexes WHERE tablename IN ('users', 'cars', 'tasks') "
        "UNION ALL SELECT 'constraint', concat_ws(' ', conrelid::regclass, conname, pg_get_constraintdef(oid)) "
        "FROM pg_constraint "
        "WHERE conrelid IN ('users'::regclass, 'cars'::regclass, 'tasks'::regclass) "
        "UNION ALL SELECT 'trigger', concat_ws(' ', tgname, tgenabled) FROM pg_trigger "
        "WHERE tgrelid IN ('users'::regclass, 'cars'::regclass, 'tasks'::regclass) AND NOT tgisinternal")).all())


def test_seed_writes_the_rows_with_their_car_counts(runner):
    before = schema_facts()
    result = seed(runner)
    assert "Seeding" in result.output  # the progress bar's label
    assert "Seeded 30 users, 60 cars and 40 tasks." in result.output
    assert (count(User), count(Car), count(Task)) == (30, 60, 40)
    assert wrong_car_counts() == 0
    assert set(db.session.scalars(select(User.car_count))) == {2}
    # Each owner is a seeded user, each assignee one or nobody.
    assert db.session.scalar(select(func.count(func.distinct(Car.owner_id)))) == 30
    assert db.session.scalar(select(func.count()).where(Task.assignee_id.is_(None))) < 40
    # The indexes, keys and triggers put aside for the load are all back, the trigger enabled.
    assert schema_facts() == before


def test_seeded_users_cannot_log_in_and_are_no_admins(runner):
    seed(runner, users=5, cars_per_user=0, tasks=0)
    for user in db.session.scalars(select(User)):
        assert user.password_hash is None and not user.check_password("")
        assert not user.is_admin


def test_after_a_seed_new_rows_get_new_ids_and_the_counters_follow(runner):
    seed(runner)
    owner = make_user("after.seed")
    assert owner.id > db.session.scalar(select(func.max(User.id)).where(User.id != owner.id))
    car = make_car(owner)
    assert car.id == db.session.scalar(select(func.max(Car.id)))
    task = make_task("after the seed", assignee=owner)
    assert task.id == db.session.scalar(select(func.max(Task.id)))
    db.session.refresh(owner)
    assert owner.car_count == 1  # the trigger is at work again
    assert wrong_car_counts() == 0


def test_seeding_a_database_in_use_appends(runner):
    owner = make_user("Dana.Silva.5", email="DANA.SILVA.5@example.com")
    make_car(owner)
    make_task("existing")
    seed(runner)
    seed(runner, users=10, cars_per_user=3, tasks=0)
    assert (count(User), count(Car), count(Task)) == (41, 91, 41)
    assert wrong_car_counts() == 0
    assert db.session.scalar(select(func.count(func.distinct(func.lower(User.username))))) == 41
    assert db.session.scalar(select(func.count(func.distinct(func.lower(User.email))))) == 41


def test_tasks_alone_go_to_people_already_there(runner):
    owner = make_user("worker")
    seed(runner, users=0, tasks=50)
    assert count(User) == 1 and count(Task) == 50
    assert set(db.session.scalars(select(Task.assignee_id).distinct())) <= {owner.id, None}


def test_seeding_records_no_history(runner):
    make_user("tracked")  # recorded: the log is on
    logged = count(Change)
    assert logged == 1
    seed(runner)
    assert count(Change) == logged


def test_seeding_invalidates_cached_reads(runner):
    make_user("before")

    def users():
        return db.session.scalar(select(func.count()).select_from(User))

    assert caching.cached("users", "seed-test", users) == (1, caching.MISS)
    assert caching.cached("users", "seed-test", users) == (1, caching.HIT)
    seed(runner, users=4, cars_per_user=0, tasks=0)
    assert caching.cached("users", "seed-test", users) == (5, caching.MISS)


@pytest.mark.parametrize("existing", [0, 1])
@pytest.mark.parametrize("breaking", ["car_models", "tasks"])  # the cars' COPY runs with the trigger disabled
def test_a_failed_seed_leaves_nothing_behind(runner, monkeypatch, existing, breaking):
    if existing:  # a table with rows keeps its indexes during the load, an empty one does not
        make_user("existing")
    before = schema_facts()

    def broken(self, *args):
        yield from ()
        raise RuntimeError(f"the {breaking} generator broke after the rows before it were in")

    monkeypatch.setattr(DemoRows, breaking, broken)
    result = runner.invoke(args=["seed", "--users", "20", "--tasks", "10"])
    assert result.exit_code != 0
    db.session.rollback()
    assert (count(User), count(Car), count(Task)) == (existing, 0, 0)
    assert schema_facts() == before
    # The next seed works, and new rows still get ids past the old ones.
    monkeypatch.undo()
    seed(runner, users=3, cars_per_user=1, tasks=2)
    assert (count(User), count(Car), count(Task)) == (existing + 3, 3, 2)
    assert wrong_car_counts() == 0


@pytest.mark.skipif(not USING_POSTGRES, reason="PostgreSQL keeps planner statistics")
def test_seed_leaves_planner_statistics(runner):
    result = seed(runner, users=300, cars_per_user=1, tasks=0)
    assert "Indexing and analysing" in result.output  # the second progress bar, after the rows
    estimate = db.session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'users'"))
    assert estimate == 300


HOSTILE_TEXT = ("back\\slash", "tab\there", "line\nbreak", "carriage\rreturn", "\\N", "\\.", "end\\")


def test_seeded_text_arrives_as_generated_whatever_its_characters(runner, monkeypatch):
    # The demo values are plain, but COPY's text format gives a backslash, a tab, a line break and \N
    # meanings of their own: the rows must hold exactly what was generated, whatever it is.
    def users(self, first_number, count):
        yield [(first_number + n, f"odd.{first_number + n}", f"odd.{first_number + n}@example.com", text_, "student")
               for n, text_ in enumerate(HOSTILE_TEXT[:count])]

    monkeypatch.setattr(DemoRows, "users", users)
    monkeypatch.setattr("best_app.cli.demo_rows.CAR_MODELS", HOSTILE_TEXT)
    monkeypatch.setattr("best_app.cli.demo_rows.TASK_TITLES", HOSTILE_TEXT)
    seed(runner, users=len(HOSTILE_TEXT), cars_per_user=3, tasks=30)
    assert sorted(db.session.scalars(select(User.name))) == sorted(HOSTILE_TEXT)
    assert set(db.session.scalars(select(Car.model))) == set(HOSTILE_TEXT)
    assert set(db.session.scalars(select(Task.title))) == set(HOSTILE_TEXT)
    assert db.session.scalar(select(func.count()).where(User.name.is_(None))) == 0
