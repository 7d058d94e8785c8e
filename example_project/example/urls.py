"""The example project's only pages: a generic JSON API over the bookstore app
(bookstore/views.py), used by the deploy rehearsal (benchmarks/rollout.py)."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("bookstore.urls")),
]
