"""Small helpers shared by the tests."""
import re


def csrf_token(response) -> str:
    """The CSRF token embedded in a rendered form."""
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', response.data)
    if match is None:
        match = re.search(rb'value="([^"]+)"[^>]*name="csrf_token"', response.data)
    assert match, "no csrf_token in the page"
    return match.group(1).decode()
