from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def my_day(request):
    return HttpResponse("ok")
