from django.urls import path

app_name = "enrollment"
urlpatterns: list = []
