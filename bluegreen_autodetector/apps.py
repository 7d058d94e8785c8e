from django.apps import AppConfig


class BlueGreenAutodetectorConfig(AppConfig):
    name = "bluegreen_autodetector"
    verbose_name = "Blue-green migrations"
