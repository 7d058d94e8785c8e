from django.urls import path

from . import views

urlpatterns = [
    path("", views.index),
    path("<str:model_name>/", views.collection),
    path("<str:model_name>/<int:pk>/", views.item),
]
