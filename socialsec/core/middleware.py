"""Request context for the audit trail, and domain errors rendered as pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from pghistory.middleware import HistoryMiddleware

from socialsec.core.exceptions import DomainError, http_status


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address, for the audit trail and login throttling.

    X-Forwarded-For is believed only when the connection comes from a proxy listed in
    TRUSTED_PROXIES; then the right-most address that is not itself a trusted proxy is
    the client (anything further left was written by the client and can be forged).
    """
    remote = request.META.get("REMOTE_ADDR")
    trusted = set(settings.TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    for address in reversed(forwarded):
        if address not in trusted:
            return address
    return remote


def axes_client_ip(request: HttpRequest) -> str | None:
    return client_ip(request)


class HistoryContextMiddleware(HistoryMiddleware):
    """Every row version written during a request records user, path, method and IP."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().get_context(request)
        context.update(ip=client_ip(request), method=request.method)
        return context


class DomainErrorMiddleware:
    """Clerk pages show a service's refusal with the status the API would give."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        template = (
            "errors/_domain_error.html" if getattr(request, "htmx", False) else "errors/domain_error.html"
        )
        response = TemplateResponse(
            request,
            template,
            {"error": exception, "status": http_status(exception)},
            status=http_status(exception),
        )
        return response.render()
