from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("new/", views.report_create, name="new"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/vote/", views.report_vote_view, name="vote"),
    path("<int:pk>/updates/", views.report_update_create, name="update"),
]
