"""Log in (username or email) with throttling, and log out."""

from django import forms
from django.contrib.auth import authenticate, login, logout
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from salesplan.org.auth import clear_login_failures, login_locked, note_login_failure

LOCKED_MESSAGE = ("Too many failed attempts to log in. For your security, logging in is "
                  "paused for 15 minutes; try again later or ask an administrator.")


class LoginForm(forms.Form):
    username = forms.CharField(label="Username or email", max_length=254,
                               widget=forms.TextInput(attrs={"autocomplete": "username",
                                                             "autofocus": True}))
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={
                                   "autocomplete": "current-password"}))


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return "/"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username, address = form.cleaned_data["username"], _client_address(request)
        if login_locked(username, address):
            form.add_error(None, LOCKED_MESSAGE)
        else:
            user = authenticate(request, username=username,
                                password=form.cleaned_data["password"])
            if user is None:
                note_login_failure(username, address)
                form.add_error(None, "That username or email and password do not match. "
                                     "Check them and try again.")
            else:
                clear_login_failures(username, address)
                login(request, user)
                return redirect(_next_url(request))
    status = 429 if any(LOCKED_MESSAGE in e for e in form.non_field_errors()) else 200
    return render(request, "web/login.html", {"form": form, "next": _next_url(request)},
                  status=status)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:login")
