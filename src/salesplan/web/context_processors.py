from salesplan.org.models import Company

# Which navigation entry a page belongs to, by the start of its URL name.
SECTIONS = (("account", "accounts"), ("contact", "contacts"), ("lead", "leads"),
            ("opportunit", "opportunities"), ("board", "board"), ("activit", "activities"),
            ("log_", "activities"), ("my_day", "my_day"), ("company_", "settings"),
            ("holiday", "settings"), ("search", "search"), ("profile", "profile"),
            ("job", "jobs"))


def company(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else ""
    section = next((s for prefix, s in SECTIONS if (name or "").startswith(prefix)), "")
    if request.path.startswith("/imports/"):
        section = "imports"
    return {"company": Company.current(), "nav_section": section}
