from django.urls import path

from projects import feeds, views

app_name = "projects"
urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("projects/<uuid:pk>/", views.project_detail, name="detail"),
    path("projects/<uuid:pk>/feed/rss/", feeds.ProjectRssFeed(), name="feed-rss"),
    path("projects/<uuid:pk>/feed/atom/", feeds.ProjectAtomFeed(), name="feed-atom"),
]
