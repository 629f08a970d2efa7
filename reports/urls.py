from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("new/", views.report_create, name="new"),
    path("nearby/", views.nearby_fragment, name="nearby"),
    path("draft/<str:token>/publish/", views.report_publish_draft_view, name="publish_draft"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/affected/", views.report_affected_view, name="affected"),
    path("<int:pk>/flag/", views.report_flag_view, name="flag"),
    path("<int:pk>/yours/<str:token>/", views.report_yours, name="yours"),
    path("<int:pk>/answer/<str:token>/", views.questionnaire_answer_view, name="answer"),
    path("<int:pk>/updates/", views.report_update_create, name="update"),
]
