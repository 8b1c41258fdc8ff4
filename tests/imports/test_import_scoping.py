"""The import views pass the URLconf walk of tests/core/test_scoping.py; the roles hold their permissions."""

from __future__ import annotations

from django.urls import get_resolver

from tests.core.test_scoping import ALLOWED_UNSCOPED, _is_scoped, _walk


def test_every_import_view_is_township_scoped_or_allowed():
    routes = dict(_walk(get_resolver().url_patterns))
    imports = {name: pattern for name, pattern in routes.items() if "import" in name}
    assert {"api-import-list", "api-import-errors", "imports:batch_detail", "api-import-kinds"} <= set(
        imports
    )
    unscoped = [name for name, pattern in imports.items() if not _is_scoped(pattern.callback)]
    assert sorted(unscoped) == ["api-import-kinds", "imports:kind_template"]
    assert all(name in ALLOWED_UNSCOPED for name in unscoped)


def test_roles_hold_the_import_permissions(cast):
    from socialsec.core.models import User

    def fresh(user):
        return User.objects.get(pk=user.pk)

    assert fresh(cast.maker_ann).has_perms(["imports.add_importbatch", "imports.view_importbatch"])
    assert fresh(cast.checker_ben).has_perm("imports.view_importbatch")
    assert not fresh(cast.checker_ben).has_perm("imports.add_importbatch")  # chiefs read, clerks import
    assert fresh(cast.auditor_gus).has_perm("imports.view_importbatch")
    assert not fresh(cast.leader_hua).has_perm("imports.view_importbatch")
