"""Read a rendered form's fields as a browser would submit them, so a test can act as a browser tab."""
from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action"), "fields": {}}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "on")
            else:
                self._form["fields"][a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._form["fields"][self._select] = a.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            # HTML drops one line break right after <textarea>; browsers send line breaks as CRLF.
            value = self._form["fields"][self._textarea].replace("\r\n", "\n")
            value = value[1:] if value.startswith("\n") else value
            self._form["fields"][self._textarea] = value.replace("\n", "\r\n")
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


def form_with(response, field: str) -> dict:
    """The fields of the first form in the page that has `field`, as a browser would post them."""
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    for form in parser.forms:
        if field in form["fields"]:
            return dict(form["fields"])
    raise AssertionError(f"no form with a field {field!r}")
