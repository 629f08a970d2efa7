from django.urls import path

from projects import feeds, views
from reports.views import project_affected_view

app_name = "projects"
urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("projects/<uuid:pk>/", views.project_detail, name="detail"),
    path("projects/<uuid:pk>/affected/", project_affected_view, name="affected"),
    path("projects/<uuid:pk>/feed/rss/", feeds.ProjectRssFeed(), name="feed-rss"),
    path("projects/<uuid:pk>/feed/atom/", feeds.ProjectAtomFeed(), name="feed-atom"),
]
