"""Two aliases and a router: contract and cleanup go where stock Django's would."""

from .oracles import Release
from .project import create_database, drop_database

ROUTER = '''
class ByModel:
    """Book lives on "other" (PostgreSQL); every other model on "default"."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label != "shop":
            return None
        return db == ("other" if model_name == "book" else "default")
'''

V1 = """
class Author(models.Model):
    name = models.CharField(max_length=100)
    bio = models.TextField(null=True)


class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
"""

V2 = """
class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=200)
"""


def test_migrate_database_applies_each_half_where_the_router_sends_it(make_project):
    project = make_project(
        "sqlite", extra_settings="DATABASE_ROUTERS = ['routers.ByModel']\n"
    )
    (project.root / "routers.py").write_text(ROUTER)
    other = create_database("postgresql")
    project.other_databases["other"] = other
    try:
        release = Release(project, V1, V2)
        project.manage("migrate", "--database", "other", "-v0")
        release.make_v2()
        (cleanup,) = project.pending_files()
        assert '"postgresql": [' in cleanup.read_text()
        for alias in ("default", "other"):
            project.manage("migrate", "--database", alias, "-v0")
        project.manage("promotemigrations")
        for alias in ("default", "other"):
            project.manage("migrate", "--database", alias, "-v0")

        default_schema = project.probe("schema")
        assert set(default_schema["shop_author"]["columns"]) == {"id", "name"}
        assert "shop_book" not in default_schema
        project.database, saved = other, project.database
        other_schema = project.probe("schema")
        project.database = saved
        assert set(other_schema["shop_book"]["columns"]) == {"id", "title"}
        assert "shop_author" not in other_schema
    finally:
        drop_database("postgresql", other)
