from django.contrib.auth import views as auth_views
from django.urls import path

from socialsec.core import views

# LOGIN_REDIRECT_URL and LOGOUT_REDIRECT_URL (settings) send users home and back to the login page.
login_view = auth_views.LoginView.as_view(
    template_name="registration/login.html", redirect_authenticated_user=True
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
