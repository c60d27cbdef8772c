"""Sign-on pages: the second-factor step of a login, setting up and switching off
two-factor authentication, OpenID login, and the admins' sign-on settings."""

import logging

from authlib.integrations.base_client import OAuthError
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from salesplan.core.records import posted_version
from salesplan.org.models import User
from salesplan.ui.forms import add_service_errors
from salesplan.ui.pages import require_or_403

from . import oidc, selectors, services, two_factor
from .forms import CodeForm, ConfirmForm, MappingForm, PasswordForm, PolicyForm
from .models import GroupMapping, SignOnPolicy, TotpDevice
from .session import ENROL, PENDING, second_factor_passed

logger = logging.getLogger("salesplan.security")
NEXT = "signon.next"


def _safe_next(request, target: str | None) -> str:
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return "/"


# --- the second factor at login ------------------------------------------------------------


@sensitive_post_parameters("code")
@never_cache
@login_required
def verify(request):
    """After the password: the code from the authenticator app (or a recovery code)."""
    if not request.session.get(PENDING):
        return redirect(_safe_next(request, request.GET.get("next")))
    form = CodeForm(request.POST or None)
    target = request.POST.get("next") or request.GET.get("next")
    if request.method == "POST" and form.is_valid():
        user = request.user
        how = two_factor.verify_code(user, form.cleaned_data["code"])
        if how is not None:
            second_factor_passed(request, how)
            if how == "recovery":
                left = selectors.recovery_codes_left(user)
                messages.warning(request, f"You used a recovery code; {left} left. If your "
                                          "phone is lost, set up two-factor again.")
            return redirect(_safe_next(request, target))
        if two_factor.locked(user):
            logger.warning("second factor locked for user %s", user.pk)
            logout(request)
            return render(request, "signon/verify.html",
                          {"form": None, "locked": two_factor.LOCKED_MESSAGE}, status=429)
        form.add_error("code", "That code is not right, or was used already. Type the code "
                               "your app shows now.")
    return render(request, "signon/verify.html", {"form": form, "next": target or ""})


# --- setting up and switching off ---------------------------------------------------------


def _two_factor_page(request, *, confirm_form=None, off_form=None, codes_form=None,
                     codes=None, status=200):
    device = TotpDevice.objects.filter(user=request.user).first()
    context = {"device": device, "enabled": bool(device and device.confirmed),
               "forced": bool(request.session.get(ENROL)),
               "confirm_form": confirm_form or ConfirmForm(),
               "off_form": off_form or PasswordForm(prefix="off"),
               "codes_form": codes_form or PasswordForm(prefix="codes"), "codes": codes,
               "codes_left": selectors.recovery_codes_left(request.user)}
    if device is not None and not device.confirmed:
        uri = two_factor.provisioning_uri(device)
        context.update(uri=uri, qr=two_factor.qr_code_data_uri(uri))
    return render(request, "signon/two_factor.html", context, status=status)


@never_cache
@login_required
def two_factor_page(request):
    if request.method == "POST":
        try:
            two_factor.start_enrolment(request.user, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("web:signon:two_factor")
    return _two_factor_page(request)



@sensitive_post_parameters("code")
@never_cache
@login_required
@require_POST
def enrol_confirm(request):
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request.user, by=request.user,
                                                 code=form.cleaned_data["code"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            second_factor_passed(request, "totp")
            messages.success(request, "Two-factor authentication is on.")
            return _two_factor_page(request, codes=codes)
    return _two_factor_page(request, confirm_form=form, status=400)


def _with_password(request, action, prefix: str):
    form = PasswordForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            return action(form.cleaned_data["password"]), form
        except ValidationError as exc:
            add_service_errors(form, exc)
    return None, form


@sensitive_post_parameters("off-password", "codes-password")
@never_cache
@login_required
@require_POST
def disable(request):
    def switch_off(password):
        two_factor.disable_two_factor(request.user, by=request.user, password=password)
        return True

    done, form = _with_password(request, switch_off, "off")
    if done:
        messages.success(request, "Two-factor authentication is off.")
        return redirect("web:signon:two_factor")
    return _two_factor_page(request, off_form=form, status=400)


@sensitive_post_parameters("off-password", "codes-password")
@never_cache
@login_required
@require_POST
def recovery_codes(request):
    codes, form = _with_password(request, lambda password: two_factor.new_recovery_codes(
        request.user, by=request.user, password=password), "codes")
    if codes:
        return _two_factor_page(request, codes=codes)
    return _two_factor_page(request, codes_form=form, status=400)


# --- OpenID Connect ------------------------------------------------------------------------


@never_cache
def oidc_login(request):
    """Off to the provider; it sends the person back to the callback."""
    if not oidc.configured():
        raise Http404("Single sign-on is not configured.")
    request.session[NEXT] = _safe_next(request, request.GET.get("next"))
    callback = request.build_absolute_uri(reverse("web:signon:oidc_callback"))
    return oidc.client().authorize_redirect(request, callback)


def _refused(request, message: str, status: int = 403):
    return render(request, "signon/oidc_refused.html", {"message": message}, status=status)


@never_cache
def oidc_callback(request):
    if not oidc.configured():
        raise Http404("Single sign-on is not configured.")
    if request.GET.get("error"):
        return _refused(request, "The sign-in was cancelled or refused at "
                                 f"{oidc.provider_name()}.", status=400)
    try:
        token = oidc.client().authorize_access_token(request)
        issuer, claims = oidc.claims_from(token)
        user = services.sign_in_from_provider(issuer, claims, groups_claim=oidc.groups_claim())
    except OAuthError as exc:
        logger.warning("OpenID sign-in failed: %s", exc)
        return _refused(request, f"Signing in with {oidc.provider_name()} did not complete. "
                                 "Try again.", status=400)
    except services.SignOnRefused as exc:
        logger.warning("OpenID sign-in refused: %s", exc)
        return _refused(request, str(exc))
    target = request.session.pop(NEXT, "/")
    request.signon_via = "provider"
    login(request, user, backend="salesplan.org.auth.UsernameOrEmailBackend")
    return redirect(_safe_next(request, target))


# --- the admins' settings ----------------------------------------------------------------


def _settings(request, *, add_form=None, policy_form=None, status=200):
    require_or_403(request.user, "group_mapping", "view")
    policy = SignOnPolicy.current()
    return render(request, "signon/settings.html", {
        "nav_section": "signon", "policy": policy,
        "policy_form": policy_form or PolicyForm(
            initial={"require_admin_two_factor": policy.require_admin_two_factor}),
        "mappings": [(m, MappingForm(initial={"group": m.group, "role": m.role,
                                              "team": m.team_id}, prefix=f"m{m.pk}"))
                     for m in selectors.mappings()],
        "add_form": add_form or MappingForm(), "enrolled": selectors.users_with_two_factor(),
        "oidc_configured": oidc.configured(), "provider_name": oidc.provider_name(),
        "callback_url": request.build_absolute_uri(reverse("web:signon:oidc_callback")),
    }, status=status)


@login_required
def settings_page(request):
    return _settings(request)


def _act(request, action, success: str):
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(f"{k}: {' '.join(v)}" if k != "__all__" else
                                         " ".join(v) for k, v in exc.message_dict.items())
                       if hasattr(exc, "error_dict") else " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("web:signon:settings")


@login_required
@require_POST
def policy_save(request):
    form = PolicyForm(request.POST)
    form.is_valid()
    required = bool(form.cleaned_data.get("require_admin_two_factor"))

    def save():
        services.update_policy(by=request.user, require_admin_two_factor=required,
                               expected_version=posted_version(request.POST))
        if required and request.user.is_admin and not two_factor.has_two_factor(request.user):
            request.session[ENROL] = True  # the admin who asked for it goes first

    return _act(request, save, "Sign-on policy saved.")


@login_required
@require_POST
def mapping_add(request):
    require_or_403(request.user, "group_mapping", "manage")
    form = MappingForm(request.POST)
    if not form.is_valid():
        return _settings(request, add_form=form, status=400)
    data = form.cleaned_data
    try:
        services.create_mapping(by=request.user, group=data["group"], role=data["role"],
                                team_id=data["team"].pk if data["team"] else None)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _settings(request, add_form=form, status=400)
    messages.success(request, f"Group “{data['group']}” mapped.")
    return redirect("web:signon:settings")


@login_required
@require_POST
def mapping_edit(request, pk):
    require_or_403(request.user, "group_mapping", "manage")
    mapping = get_object_or_404(GroupMapping, pk=pk)
    form = MappingForm(request.POST, prefix=f"m{pk}")
    if not form.is_valid():
        messages.error(request, "Check the mapping: " + form.errors.as_text())
        return redirect("web:signon:settings")
    data = form.cleaned_data
    return _act(request, lambda: services.update_mapping(
        mapping, by=request.user, expected_version=posted_version(request.POST),
        data={"group": data["group"], "role": data["role"],
              "team_id": data["team"].pk if data["team"] else None}),
        f"Mapping of “{data['group']}” saved.")


@login_required
@require_POST
def mapping_delete(request, pk):
    mapping = get_object_or_404(GroupMapping, pk=pk)
    return _act(request, lambda: services.delete_mapping(
        mapping, by=request.user, expected_version=posted_version(request.POST)),
        f"Mapping of “{mapping.group}” removed.")


@login_required
@require_POST
def reset_user(request, pk):
    user = get_object_or_404(User, pk=pk)
    return _act(request, lambda: two_factor.reset_two_factor(user, by=request.user),
                f"Two-factor authentication of {user} reset; they set it up again at their "
                "next login.")
