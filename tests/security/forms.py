"""Read an HTML form the way a browser submits it, so tests can post back a page's form."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_index: int):
        super().__init__()
        self.form_index, self.seen_forms, self.inside = form_index, -1, False
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.seen_forms += 1
            self.inside = self.seen_forms == self.form_index
        if not self.inside or "name" not in a and tag != "option":
            return
        if tag == "input" and a.get("type", "text") not in {"submit", "button", "file", "image"}:
            if a.get("type") in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data[a["name"]] = a.get("value", "on")
            else:
                self.data[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._select_first = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_first is None:
                self._select_first = a.get("value", "")
                self.data.setdefault(self._select, self._select_first)
            if "selected" in a:
                self.data[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self.inside and self._textarea is not None:
            self.data[self._textarea] += data


def form_values(html: str, form_index: int = 0) -> dict[str, str]:
    """The values the page's `form_index`-th form would submit as it stands."""
    reader = _FormReader(form_index)
    reader.feed(html)
    return reader.data


def main_form_values(html: str) -> dict[str, str]:
    """Values of the page's record form: the form that has a csrf token and most fields."""
    forms = []
    index = 0
    while True:
        values = form_values(html, index)
        if not values and index > html.count("<form"):
            break
        forms.append(values)
        index += 1
    candidates = [f for f in forms if "csrfmiddlewaretoken" in f]
    return max(candidates, key=len) if candidates else {}
