from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_new, name="new"),
    path("sent/", views.alert_sent, name="sent"),
    path("confirm/<str:token>/", views.alert_confirm_view, name="confirm"),
    path("unsubscribe/<str:token>/", views.alert_unsubscribe_view, name="unsubscribe"),
    path("manage/<str:token>/", views.alert_manage, name="manage"),
    path("no-questionnaire/<str:token>/", views.no_questionnaire_view, name="no_questionnaire"),
]
