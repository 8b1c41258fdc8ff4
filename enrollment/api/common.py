"""What the registry's endpoints share: division references, per-method permissions, months."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class DivisionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class PermissionByMethod:
    """One URL, two operations (list and create): each HTTP method names its own permission.

    HasModelPermission reads `required_permission`; here it depends on the method.
    """

    permission_by_method: dict[str, str] = {}

    @property
    def required_permission(self) -> str:
        return self.permission_by_method.get(self.request.method, self.permission_by_method["GET"])


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "example": "2020-02"})
class MonthField(serializers.Field):
    """A month as YYYY-MM (DOMAIN §0.4), stored as the first day of the month."""

    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, for example 2020-02.")}

    def to_internal_value(self, data: Any) -> dt.date:
        try:
            return dt.datetime.strptime(str(data), "%Y-%m").date()
        except ValueError:
            self.fail("invalid")
            raise  # unreachable: fail() raises

    def to_representation(self, value: dt.date) -> str:
        return f"{value:%Y-%m}"
