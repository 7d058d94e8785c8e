"""The example project serves no pages: it exists to show migrations."""

urlpatterns = []
