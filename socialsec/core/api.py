"""What every API view shares: scoped base views, keyset pagination, one error shape."""

from __future__ import annotations

from typing import Any

import drf_spectacular.openapi
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf_exceptions
from rest_framework import generics, permissions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from socialsec.core.exceptions import DomainError, error_body, http_status
from socialsec.core.scoping import TownshipScopedQuerySet

_DRF_CODES = {
    400: "invalid_input",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "invalid_state",
    429: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors through HTTP_STATUS; give DRF's own errors the same body shape."""
    if isinstance(exc, DomainError):
        return Response(error_body(exc), status=http_status(exc))
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _DRF_CODES.get(response.status_code, "error")
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": code, "detail": response.data["detail"]}
    else:  # field errors from a serializer: keep them, name the problem
        response.data = {"error": code, "detail": _("The input is not valid."), "fields": response.data}
    return response


class HasModelPermission(permissions.BasePermission):
    """The view's `required_permission` (a role's permission); 403 without it."""

    def has_permission(self, request: Any, view: Any) -> bool:
        required = getattr(view, "required_permission", None)
        return bool(
            request.user
            and request.user.is_authenticated
            and (not required or request.user.has_perm(required))
        )


class TownshipScopedApi(generics.GenericAPIView):
    """Base for API views over township-owned rows: the queryset always passes visible_to.

    Subclasses set `queryset` (a TownshipScopedQuerySet) and `required_permission`;
    they must not override get_queryset. tests/core/test_scoping.py checks both.
    """

    township_scoped = True
    required_permission: str | None = None
    permission_classes = [permissions.IsAuthenticated, HasModelPermission]

    def get_queryset(self) -> TownshipScopedQuerySet:
        queryset = super().get_queryset()
        assert isinstance(queryset, TownshipScopedQuerySet), f"{type(self).__name__} needs a scoped queryset"
        return self.scope(queryset)

    def scope(self, queryset: TownshipScopedQuerySet) -> TownshipScopedQuerySet:
        return queryset.visible_to(self.request.user)


class AutoSchema(drf_spectacular.openapi.AutoSchema):
    """Names nested serializers after their view.

    PersonRecordDeathApi.InputSerializer becomes PersonRecordDeathInput: STYLE §14 nests
    InputSerializer/OutputSerializer in each view, so the bare class names repeat.
    """

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        cls = type(serializer)
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.removesuffix("Api") + inner
        return super().get_serializer_name(serializer, direction)
