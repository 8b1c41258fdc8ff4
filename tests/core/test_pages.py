"""The page shell: login in two languages, role work queues, navigation, logout, lockout, CSP."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # tests/factories.py UserFactory
LOGIN_URL = "/accounts/login/"


def _html(response) -> str:
    return response.content.decode()


def _main_nav(html: str) -> str:
    """The top navigation list only, so a link elsewhere on the page does not count."""
    match = re.search(r'<ul class="navbar-nav me-auto" id="main-nav">(.*?)</ul>', html, re.DOTALL)
    assert match, "the page has no main navigation"
    return match.group(1)


def _log_in(client, username: str, password: str = PASSWORD, ip: str = "127.0.0.1", **extra):
    return client.post(LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=ip, **extra)


# --- Login page and language ----------------------------------------------------------------


def test_the_login_page_is_in_chinese_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = _html(response)
    assert '<html lang="zh-hans">' in html
    assert "登录" in html
    assert "用户名" in html
    assert "Log in" not in html


def test_the_login_page_is_in_english_with_the_language_cookie(client):
    client.cookies["socialsec_language"] = "en"
    html = _html(client.get(LOGIN_URL))
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "登录" not in html


def test_the_login_page_follows_the_browsers_accept_language(client):
    html = _html(client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert '<html lang="en">' in html
    assert "Username" in html


def test_the_language_switcher_posts_to_set_language_and_sets_the_cookie(client):
    html = _html(client.get(LOGIN_URL))
    assert f'action="{reverse("set_language")}" method="post"' in html
    response = client.post(reverse("set_language"), {"language": "en", "next": LOGIN_URL})
    assert response.status_code == 302
    assert response.cookies["socialsec_language"].value == "en"
    assert "Log in" in _html(client.get(LOGIN_URL))


def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next=/"


# --- Logging in lands on the role's work queue --------------------------------------------------


def test_a_clerk_logs_in_and_lands_on_the_clerk_work_queue(client, cast):
    response = _log_in(client, "maker_ann", follow=True)
    assert response.redirect_chain[-1] == ("/", 302)
    html = _html(response)
    assert "待制作的花名册" in html
    assert "暂无待制作的花名册" in html


def test_a_wrong_password_shows_the_form_again_with_an_error(client, cast):
    response = _log_in(client, "maker_ann", password="not the password")
    assert response.status_code == 200
    assert "is-invalid" in _html(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("username", "heading"),
    [
        ("maker_ann", "待制作的花名册"),
        ("checker_ben", "待审核的花名册"),
        ("approver_cai", "待审批的花名册"),
        ("accountant_dan", "待会计审核的花名册"),
        ("cashier_fay", "待出纳支付的花名册"),
        ("auditor_gus", "待稽核事项"),
        ("leader_hua", "全县概况"),
        ("admin_ivy", "系统管理"),
    ],
)
def test_each_role_sees_its_own_work_queue(client, cast, username, heading):
    client.force_login(getattr(cast, username))
    response = client.get("/")
    assert response.status_code == 200
    assert f">{heading}</h2>" in _html(response)


def test_a_finance_user_sees_the_queue_of_their_post_not_a_second_finance_queue(client, cast):
    client.force_login(cast.accountant_dan)
    html = _html(client.get("/"))
    assert 'id="queue-accountant"' in html
    assert 'id="queue-finance"' not in html


def test_the_home_page_in_english_uses_the_english_queue_heading(client, cast):
    client.force_login(cast.checker_ben)
    client.cookies["socialsec_language"] = "en"
    assert ">Rosters waiting for your check</h2>" in _html(client.get("/"))


def test_the_user_menu_shows_the_township_or_the_whole_county(client, cast):
    client.force_login(cast.maker_ann)
    assert "莲塘镇" in _html(client.get("/"))
    client.force_login(cast.auditor_gus)
    assert "全县" in _html(client.get("/"))


# --- Navigation per role ----------------------------------------------------------------


def test_a_clerk_sees_person_search_in_the_navigation(client, cast):
    client.force_login(cast.maker_ann)
    nav = _main_nav(_html(client.get("/")))
    assert "人员查询" in nav
    assert 'href="/persons/"' in nav
    assert 'href="/admin/"' not in nav


def test_the_county_leader_does_not_see_person_search(client, cast):
    client.force_login(cast.leader_hua)
    nav = _main_nav(_html(client.get("/")))
    assert "人员查询" not in nav
    assert 'href="/persons/"' not in nav


def test_the_admin_sees_the_administration_link(client, cast):
    client.force_login(cast.admin_ivy)
    nav = _main_nav(_html(client.get("/")))
    assert 'href="/admin/"' in nav
    assert "系统管理" in nav


def test_the_navigation_is_in_english_with_the_language_cookie(client, cast):
    client.force_login(cast.maker_ann)
    client.cookies["socialsec_language"] = "en"
    assert "Persons" in _main_nav(_html(client.get("/")))


# --- Logout ----------------------------------------------------------------------------


def test_logout_is_a_post_that_ends_the_session(client, cast):
    client.force_login(cast.maker_ann)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert client.get("/").status_code == 302


def test_the_logout_button_is_a_form_posting_to_logout(client, cast):
    client.force_login(cast.maker_ann)
    assert f'<form action="{reverse("logout")}" method="post"' in _html(client.get("/"))


# --- Lockout (django-axes) ----------------------------------------------------------------


def test_five_wrong_passwords_lock_that_username_from_that_address(client, cast):
    for _ in range(4):
        assert _log_in(client, "maker_ann", password="wrong password", ip="10.1.1.1").status_code == 200
    fifth = _log_in(client, "maker_ann", password="wrong password", ip="10.1.1.1")
    assert fifth.status_code == 429
    assert "账户已锁定" in _html(fifth)
    # Now even the right password is refused from that address.
    assert _log_in(client, "maker_ann", ip="10.1.1.1").status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_does_not_lock_another_username_from_the_same_address(client, cast):
    for _ in range(5):
        _log_in(client, "maker_ann", password="wrong password", ip="10.1.1.2")
    response = _log_in(client, "checker_ben", ip="10.1.1.2")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_lockout_does_not_lock_the_same_username_from_another_address(client, cast):
    for _ in range(5):
        _log_in(client, "maker_ann", password="wrong password", ip="10.1.1.3")
    assert _log_in(client, "maker_ann", ip="10.1.1.4").status_code == 302


def test_the_lockout_page_is_in_english_with_the_language_cookie(client, cast):
    client.cookies["socialsec_language"] = "en"
    for _ in range(5):
        response = _log_in(client, "maker_ann", password="wrong password", ip="10.1.1.5")
    assert response.status_code == 429
    assert "Account locked" in _html(response)


# --- Content Security Policy ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/persons/"])
def test_pages_send_a_strict_csp_and_carry_no_inline_script_or_style(client, cast, person_in_a, path):
    if path != LOGIN_URL:
        client.force_login(cast.maker_ann)
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = _html(response)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page loads its scripts"
    assert all(" src=" in tag for tag in scripts), scripts
    assert not re.search(r"<style\b", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_htmx_comes_from_django_htmx_and_nothing_from_a_cdn(client):
    html = _html(client.get(LOGIN_URL))
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/vendor/bootstrap/css/bootstrap.min.css" in html
    assert "/static/js/app.js" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
