"""Cars: list (optionally one owner's), create, edit and delete."""
from __future__ import annotations

from flask import render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from best_app.admin import bp
from best_app.admin.editing import create_page, delete_page, edit_page, get_or_404, save
from best_app.admin.listing import Sort, int_arg, paginate, search_clause, search_text
from best_app.extensions import db
from best_app.forms import CarForm
from best_app.models import Car, User

SORTS = {
    "id": Sort("ID", Car.id),
    "model": Sort("Model", Car.model),
    "updated_at": Sort("Changed", Car.updated_at),
}


@bp.get("/cars")
def cars():
    q = search_text(request.args)
    owner_id = int_arg(request.args, "owner")
    owner = db.session.get(User, owner_id) if owner_id else None
    statement = select(Car).options(selectinload(Car.owner))
    if q:
        statement = statement.where(search_clause((Car.model,), q))
    if owner_id:
        statement = statement.where(Car.owner_id == owner_id)
    page = paginate("cars", statement, Car, SORTS, request.args, {"q": q, "owner": owner_id})
    return render_template("admin/cars/list.html", page=page, sorts=SORTS, q=q, owner=owner,
                           owner_id=owner_id)


def _apply(form: CarForm):
    def apply(car: Car) -> None:
        car.model = form.model.data
        car.owner_id = form.owner_id.data
        db.session.add(car)
    return apply


@bp.route("/cars/new", methods=["GET", "POST"])
def car_create():
    form = CarForm()
    if request.method == "GET" and int_arg(request.args, "owner"):
        form.owner_id.process_data(int_arg(request.args, "owner"))
    return create_page(form, lambda: save(Car(), form, _apply(form)), template="admin/cars/form.html",
                       context={"car": None}, created_message=lambda: f"Car {form.model.data} was created.",
                       done_url=lambda: url_for("admin.cars", owner=form.owner_id.data))


@bp.route("/cars/<int:car_id>", methods=["GET", "POST"])
def car_edit(car_id: int):
    car = get_or_404(Car, car_id)
    form = CarForm(obj=car)
    return edit_page(car, form, lambda: save(car, form, _apply(form)), template="admin/cars/form.html",
                     context={"car": car}, saved_message=lambda: f"Car {car.model} was saved.",
                     done_url=url_for("admin.cars"))


@bp.route("/cars/<int:car_id>/delete", methods=["GET", "POST"])
def car_delete(car_id: int):
    car = get_or_404(Car, car_id)
    return delete_page(car, lambda: db.session.delete(car), template="admin/cars/delete.html",
                       context=lambda: {"car": car}, deleted_message=f"Car {car.model} was deleted.",
                       done_url=url_for("admin.cars"))
