"""Error pages: in the admin's look, explaining what happened, never a traceback."""
import pytest
from werkzeug.exceptions import abort

PAGES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Page not found",
    405: "Method not allowed",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}


@pytest.fixture
def failing_app(app):
    @app.get("/admin-test-error/<int:code>")
    def fail(code):
        if code == 500:
            raise RuntimeError("secret internal detail")
        abort(code)

    return app


@pytest.mark.parametrize("code", sorted(PAGES))
def test_error_pages(failing_app, code):
    response = failing_app.test_client().get(f"/admin-test-error/{code}")
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert PAGES[code] in html
    assert f"Error {code}" in html
    assert "vendor/bootstrap/css/bootstrap.min.css" in html  # the admin's look
    assert "Traceback" not in html and "secret internal detail" not in html
    assert response.headers["Content-Security-Policy"]


def test_api_errors_stay_json(failing_app):
    response = failing_app.test_client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
