from salesplan.org.models import Company


def company(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"company": Company.current()}
