"""users.car_count, kept by the database itself.

"Users without cars" (has_cars=false) would otherwise have to anti-join
every user with every car: at a million rows, most of a second, whatever the
plan. A count on the user row, with a partial index on the users who have
none, answers it from an index. Triggers keep the count, so every write path
(the ORM, bulk statements, `flask seed`, SQL by hand) keeps it right. The same
statements create them after `create_all` (tests) and in the migration.
"""
from sqlalchemy import DDL, event

POSTGRESQL_TRIGGER = "cars_count"  # `flask seed` disables it while it copies cars in (best_app.cli.seed_copy)
POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION best_app_count_cars() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE users SET car_count = car_count - 1 WHERE id = OLD.owner_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE users SET car_count = car_count + 1 WHERE id = NEW.owner_id;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER {POSTGRESQL_TRIGGER} AFTER INSERT OR DELETE OR UPDATE OF owner_id ON cars
FOR EACH ROW EXECUTE FUNCTION best_app_count_cars()""",
]
SQLITE = [
    """CREATE TRIGGER cars_count_insert AFTER INSERT ON cars BEGIN
    UPDATE users SET car_count = car_count + 1 WHERE id = NEW.owner_id; END""",
    """CREATE TRIGGER cars_count_delete AFTER DELETE ON cars BEGIN
    UPDATE users SET car_count = car_count - 1 WHERE id = OLD.owner_id; END""",
    """CREATE TRIGGER cars_count_update AFTER UPDATE OF owner_id ON cars BEGIN
    UPDATE users SET car_count = car_count - 1 WHERE id = OLD.owner_id;
    UPDATE users SET car_count = car_count + 1 WHERE id = NEW.owner_id; END""",
]
DROP = {
    "postgresql": ["DROP TRIGGER IF EXISTS cars_count ON cars", "DROP FUNCTION IF EXISTS best_app_count_cars()"],
    "sqlite": ["DROP TRIGGER IF EXISTS cars_count_insert", "DROP TRIGGER IF EXISTS cars_count_delete",
               "DROP TRIGGER IF EXISTS cars_count_update"],
}
BACKFILL = "UPDATE users SET car_count = (SELECT count(*) FROM cars WHERE cars.owner_id = users.id)"


def attach(cars_table) -> None:
    """Create the triggers whenever `create_all` creates the cars table."""
    for statement in POSTGRESQL:
        event.listen(cars_table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    for statement in SQLITE:
        event.listen(cars_table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
