"""docs/adding-a-resource.md is true: a model, a form and one registration give a
resource every surface — API routes and scoped lists, OpenAPI, admin pages,
navigation, dashboard, filters and cache invalidation — with no other edit.

The trial resource is declared in a fresh interpreter (registration happens at
import, before the app is built), on its own in-memory database.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TRIAL = textwrap.dedent('''
    from sqlalchemy import ForeignKey, String
    from sqlalchemy.orm import Mapped, mapped_column
    from wtforms import StringField
    from wtforms.validators import DataRequired, InputRequired, Length

    from best_app.extensions import db
    from best_app.forms import UserRefField, VersionedForm, strip
    from best_app.models.base import TimestampMixin, VersionedMixin
    from best_app.resources import register
    from best_app.resources.declaration import ListColumn, Resource


    class Garage(TimestampMixin, VersionedMixin, db.Model):
        __tablename__ = "garages"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
        keeper_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                               index=True)


    class GarageForm(VersionedForm):
        name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=80)])
        keeper_id = UserRefField("Keeper", validators=[InputRequired()])


    register(Resource(
        name="garages", model=Garage, form=GarageForm, label="garage", title_field="name",
        description="Where cars sleep.",
        fields=("id", "name", "keeper_id", "created_at", "updated_at", "version"),
        writable=("name", "keeper_id"), relations={"keeper_id": "users"},
        sorts=("id", "name"), search=("name",), search_relations=("keeper_id",),
        list_columns=(ListColumn("name", "Name", "title"), ListColumn("keeper_id", "Keeper", "ref")),
    ))
''')

CHECKS = textwrap.dedent('''
    import re

    from best_app import create_app
    from best_app.extensions import db
    from best_app.models import ApiToken, User

    app = create_app({"TESTING": True, "SECRET_KEY": "trial", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        db.create_all()
        keeper = User(username="keeper", email="keeper@example.com", name="Kim Keeper", is_admin=True)
        keeper.set_password("long enough password")
        db.session.add(keeper)
        _token, secret = ApiToken.issue(keeper)
        db.session.commit()
        api, auth = app.test_client(), {"Authorization": f"Bearer {secret}"}

        # The API: create, read (cached), change, read again (the write invalidated it).
        created = api.post("/api/v1/garages", json={"name": "North", "keeper_id": keeper.id}, headers=auth)
        assert created.status_code == 201, created.get_json()
        url = created.headers["Location"]
        assert api.get(url, headers=auth).headers["X-Cache"] == "MISS"
        assert api.get(url, headers=auth).headers["X-Cache"] == "HIT"
        assert api.patch(url, json={"name": "South"}, headers=auth).status_code == 200
        assert api.get(url, headers=auth).get_json()["name"] == "South"
        assert [g["name"] for g in api.get("/api/v1/garages?q=kim", headers=auth).get_json()["items"]] == ["South"]
        scoped = api.get(f"/api/v1/users/{keeper.id}/garages?count=true", headers=auth).get_json()
        assert scoped["count"]["matching"]["value"] == 1
        assert api.get("/api/v1/users?has_garages=true", headers=auth).get_json()["items"][0]["id"] == keeper.id
        bad = api.get("/api/v1/garages?keeper_id=x", headers=auth)
        assert bad.status_code == 400 and bad.get_json()["parameter"] == "keeper_id"
        spec = api.get("/api/v1/openapi.json").get_json()
        assert spec["paths"]["/api/v1/garages/{id}"]["patch"]["operationId"] == "update_garage"
        assert "/api/v1/users/{id}/garages" in spec["paths"] and "GarageInput" in spec["components"]["schemas"]

        # The admin pages: navigation, dashboard, list, create.
        admin = app.test_client()
        assert admin.post("/admin/login", data={"login": "keeper", "password": "long enough password"}).status_code == 302
        dashboard = admin.get("/admin/").get_data(as_text=True)
        assert 'href="/admin/garages"' in dashboard and 'data-count="garages"' in dashboard
        listing = admin.get("/admin/garages?keeper_id=%d" % keeper.id).get_data(as_text=True)
        assert "South" in listing and "Keeper: keeper" in listing
        created = admin.post("/admin/garages/new", data={"name": "East", "keeper_id": "keeper"})
        assert created.status_code == 302, created.get_data(as_text=True)
        assert "East" in admin.get("/admin/garages").get_data(as_text=True)
        user_page = admin.get(f"/admin/users/{keeper.id}").get_data(as_text=True)
        assert re.search(r'href="/admin/garages\\?keeper_id=%d"' % keeper.id, user_page)
        assert 'aria-labelledby="related-garages"' in user_page and ">East</a>" in user_page  # listed inline
    print("trial resource: every surface works")
''')


def test_a_new_resource_needs_only_its_model_form_and_registration():
    result = subprocess.run([sys.executable, "-c", TRIAL + CHECKS], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every surface works" in result.stdout
