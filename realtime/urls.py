from django.urls import path

from realtime import views

app_name = "realtime"
urlpatterns = [
    path("pipeline/", views.pipeline_page, name="pipeline"),
]
