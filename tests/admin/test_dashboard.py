"""The dashboard: counts, the done/open chart, recent changes and the visit counter."""
import re

from tests.conftest import make_car, make_task, make_user


def test_dashboard_shows_counts_chart_and_recent_rows(logged_in_client):
    bob = make_user("bob")
    make_car(bob, "Fiat 500")
    make_task("Open one", bob)
    make_task("Done one", done=True)
    make_task("Done two", done=True)
    html = logged_in_client.get("/admin/").get_data(as_text=True)
    assert re.search(r'data-count="users">2<', html)  # admin and bob
    assert re.search(r'data-count="cars">1<', html)
    assert re.search(r'data-count="tasks">3<', html)
    assert 'aria-label="2 of 3 tasks done (67%), 1 open"' in html
    assert 'stroke-dasharray="66.7 33.3"' in html
    for text in ("bob", "Fiat 500", "Open one", "Done two"):
        assert text in html


def test_dashboard_counts_follow_writes(logged_in_client):
    logged_in_client.get("/admin/")  # fills the cache
    make_user("carol")
    html = logged_in_client.get("/admin/").get_data(as_text=True)
    assert re.search(r'data-count="users">2<', html)


def test_dashboard_without_tasks_says_so(logged_in_client):
    assert b"No tasks yet." in logged_in_client.get("/admin/").data


def test_visit_counter_counts_each_view(logged_in_client):
    first = int(re.search(rb"Dashboard visits: <strong>(\d+)<", logged_in_client.get("/admin/").data).group(1))
    second = int(re.search(rb"Dashboard visits: <strong>(\d+)<", logged_in_client.get("/admin/").data).group(1))
    assert second == first + 1
