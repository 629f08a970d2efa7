from django.urls import path

from bench.api.views import bare_project

urlpatterns = [path("bare/projects/<str:project_id>", bare_project)]
