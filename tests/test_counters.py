"""users.car_count is kept by the database, whatever writes the cars."""
from sqlalchemy import delete, select, text

from best_app.extensions import db
from best_app.models import Car, User
from tests.conftest import make_car, make_user


def counts() -> dict[str, int]:
    db.session.expire_all()
    return dict(db.session.execute(select(User.username, User.car_count).order_by(User.id)).all())


def test_car_count_follows_every_kind_of_write(app):
    make_user("ann"), make_user("bob")
    ann, bob = db.session.scalars(select(User).order_by(User.id)).all()
    first = make_car(ann)
    make_car(ann)
    assert counts() == {"ann": 2, "bob": 0}
    first.owner_id = bob.id  # an ORM update of the owner
    db.session.commit()
    assert counts() == {"ann": 1, "bob": 1}
    db.session.execute(delete(Car).where(Car.owner_id == ann.id))  # a bulk delete
    db.session.commit()
    assert counts() == {"ann": 0, "bob": 1}
    db.session.execute(text("INSERT INTO cars (model, owner_id) VALUES ('By hand', :owner)"), {"owner": ann.id})
    db.session.commit()
    assert counts() == {"ann": 1, "bob": 1}
    db.session.delete(db.session.get(Car, first.id))  # an ORM delete
    db.session.commit()
    assert counts() == {"ann": 1, "bob": 0}
