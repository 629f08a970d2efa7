from django.urls import path

from municipalities import views
from projects import feeds

app_name = "municipalities"
urlpatterns = [
    path("", views.municipality_index, name="index"),
    path("provinces/", views.province_index, name="provinces"),
    path("provinces/<str:province>/", views.province_detail, name="province"),
    path("<str:code>/", views.municipality_detail, name="detail"),
    path("<str:code>/feed/rss/", feeds.MunicipalityRssFeed(), name="feed-rss"),
    path("<str:code>/feed/atom/", feeds.MunicipalityAtomFeed(), name="feed-atom"),
]
