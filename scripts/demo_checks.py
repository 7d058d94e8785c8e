"""Checks that scripts/demo.py runs inside its temporary copy of example_project.

Run from the project directory (the one holding manage.py):

    python demo_checks.py seed
        create a few rows through the v1 models (bookstore.models as it is now)
    python demo_checks.py coexistence bookstore V1_MIGRATION V2_MIGRATION
        CRUD through the v1 AND v2 models on the same database; both must work
    python demo_checks.py schema bookstore
        the tables of the app match its current models, column by column
    python demo_checks.py show bookstore
        print the rows of every model of the app

Both versions of the models come from the migration graph, as historical
models: v1 is the project state at V1_MIGRATION (the leaf before the contract
migration), v2 the state at V2_MIGRATION (the contract migration). That is how
one process can act as the old release ("blue") and the new one ("green").
Exit status is non-zero if any check fails.
"""

import os
import sys
import traceback


def setup_django():
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")
    import django

    django.setup()


class Checks:
    """Run named checks, print one line each, remember failures."""

    def __init__(self):
        self.failures = []

    def run(self, label, func):
        from django.db import transaction

        try:
            # Every check commits on its own: PostgreSQL and SQLite create FK
            # constraints DEFERRABLE INITIALLY DEFERRED, so a violation only
            # surfaces at COMMIT.
            with transaction.atomic():
                detail = func()
        except Exception as exc:  # noqa: BLE001 -- report every failure, go on
            self.failures.append(label)
            print(f"  FAILED  {label}")
            print(f"          {type(exc).__name__}: {exc}")
            if os.environ.get("DEMO_TRACEBACK"):
                traceback.print_exc()
            return None
        print(f"  ok      {label}" + (f"  ->  {detail}" if detail else ""))
        return detail

    def exit(self):
        if self.failures:
            print(f"\n{len(self.failures)} check(s) failed:")
            for label in self.failures:
                print(f"  - {label}")
            sys.exit(1)
        print("\nAll checks passed.")


class Rows(dict):
    """Rows created by earlier checks, by nickname."""

    def __missing__(self, key):
        raise LookupError(f"skipped: row {key!r} was not created by an earlier check")


def field_names(model):
    return ", ".join(f.name for f in model._meta.concrete_fields)


def seed():
    """Create rows through the real v1 code, before the v2 migration exists."""
    from bookstore.models import Book, Font, Product

    def create():
        font = Font.objects.create(name="Helvetica")
        Book.objects.create(title="The Hobbit", font=font)
        Product.objects.create(name="Desk", rating=3)
        return "Font 'Helvetica', Book 'The Hobbit' (in Helvetica), Product 'Desk'"

    def read():
        books = [(b.title, b.font.name) for b in Book.objects.select_related("font")]
        products = [(p.name, p.rating) for p in Product.objects.all()]
        return f"books {books}, products {products}"

    checks = Checks()
    checks.run("v1 create", create)
    checks.run("v1 read", read)
    checks.exit()


def coexistence(app_label, v1_migration, v2_migration):
    """Old and new release do CRUD on the same database after the contract."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(connection)
    v1 = loader.project_state((app_label, v1_migration)).apps
    v2 = loader.project_state((app_label, v2_migration)).apps

    V1Font = v1.get_model(app_label, "Font")
    V1Book = v1.get_model(app_label, "Book")
    V1Product = v1.get_model(app_label, "Product")
    V2Book = v2.get_model(app_label, "Book")
    V2Product = v2.get_model(app_label, "Product")

    print(f"v1 = state at {app_label}.{v1_migration} (the old release, still running)")
    for model in (V1Font, V1Book, V1Product):
        print(f"       {model.__name__}({field_names(model)})")
    print(f"v2 = state at {app_label}.{v2_migration} (the new release)")
    for model in (V2Book, V2Product):
        print(f"       {model.__name__}({field_names(model)})")
    try:
        v2.get_model(app_label, "Font")
    except LookupError:
        print("       (no Font model)")
    else:
        print("       Font is still in the v2 state: expected it deleted")
        sys.exit(1)
    print()

    checks = Checks()
    rows = Rows()

    # --- create ---------------------------------------------------------
    def v1_create():
        rows["garamond"] = V1Font.objects.create(name="Garamond")
        rows["dune"] = V1Book.objects.create(title="Dune", font=rows["garamond"])
        rows["lamp"] = V1Product.objects.create(name="Lamp", rating=5)
        return "Font 'Garamond', Book 'Dune' (in Garamond), Product 'Lamp' (rating 5)"

    def v2_create():
        # v2's INSERTs leave out font_id and rating: the database must accept that.
        rows["neuromancer"] = V2Book.objects.create(title="Neuromancer")
        rows["chair"] = V2Product.objects.create(name="Chair")
        return "Book 'Neuromancer', Product 'Chair' (no font, no rating)"

    checks.run("v1 create", v1_create)
    checks.run("v2 create", v2_create)

    # --- read -------------------------------------------------------------
    def v1_read():
        books = list(V1Book.objects.order_by("pk").values_list("title", "font_id"))
        products = list(V1Product.objects.order_by("pk").values_list("name", "rating"))
        dune = V1Book.objects.select_related("font").get(pk=rows["dune"].pk)
        assert dune.font.name == "Garamond", dune.font.name
        return f"books {books}, products {products}"

    def v2_read():
        books = list(V2Book.objects.order_by("pk").values_list("title", flat=True))
        products = list(V2Product.objects.order_by("pk").values_list("name", flat=True))
        assert "Dune" in books and "Lamp" in products, (books, products)
        return f"books {books}, products {products}"

    checks.run("v1 read (every row, v2's included)", v1_read)
    checks.run("v2 read (every row, v1's included)", v2_read)

    # --- update -----------------------------------------------------------
    def v1_update():
        dune = V1Book.objects.get(pk=rows["dune"].pk)
        dune.title = "Dune (v1 edition)"
        dune.save()
        lamp = V1Product.objects.get(pk=rows["lamp"].pk)
        lamp.rating = 4
        lamp.save()
        V1Book.objects.filter(pk=rows["neuromancer"].pk).update(
            title="Neuromancer (edited by v1)"
        )
        return "Book 'Dune' and Product 'Lamp' via save(), v2's Book via update()"

    def v2_update():
        dune = V2Book.objects.get(pk=rows["dune"].pk)
        dune.title = "Dune (v2 edition)"
        dune.save()
        chair = V2Product.objects.get(pk=rows["chair"].pk)
        chair.name = "Armchair"
        chair.save()
        V2Product.objects.filter(pk=rows["lamp"].pk).update(name="Desk lamp")
        return "v1's Book 'Dune' and v2's Product 'Chair' via save(), Lamp via update()"

    checks.run("v1 update", v1_update)
    checks.run("v2 update", v2_update)

    # --- delete -----------------------------------------------------------
    def v1_delete_font():
        # v1 knows Book.font: Django cascades in Python and deletes the book too.
        font = V1Font.objects.create(name="Futura")
        book = V1Book.objects.create(title="Brave New World", font=font)
        font.delete()
        assert not V1Book.objects.filter(pk=book.pk).exists(), "book not cascaded"
        return "Font 'Futura' and, by v1's cascade, its Book 'Brave New World'"

    def new_code_deletes_referenced_font():
        # Code that no longer knows Book.font (v2 has no Font model at all)
        # deletes a Font row that a v1 Book still points at, with no Python
        # cascade. Only works once the contract dropped the FK constraint.
        font = V1Font.objects.create(name="Baskerville")
        rows["emma"] = V1Book.objects.create(title="Emma", font=font)
        table = connection.ops.quote_name(V1Font._meta.db_table)
        pk = connection.ops.quote_name(V1Font._meta.pk.column)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {pk} = %s", [font.pk])
        return "Font 'Baskerville' deleted while Book 'Emma' still points at it"

    def v2_delete():
        V2Book.objects.get(pk=rows["emma"].pk).delete()
        V2Book.objects.get(pk=rows["dune"].pk).delete()
        V2Product.objects.get(pk=rows["lamp"].pk).delete()
        return "v1's Books 'Emma', 'Dune' and v1's Product 'Lamp'"

    def v1_delete():
        V1Book.objects.get(pk=rows["neuromancer"].pk).delete()
        V1Product.objects.get(pk=rows["chair"].pk).delete()
        V1Font.objects.get(pk=rows["garamond"].pk).delete()
        return "v2's Book 'Neuromancer', v2's Product 'Chair', Font 'Garamond'"

    checks.run("v1 delete a Font a Book points at", v1_delete_font)
    checks.run(
        "v2-side delete of a Font a v1 Book points at (no cascade)",
        new_code_deletes_referenced_font,
    )
    checks.run("v2 delete", v2_delete)
    checks.run("v1 delete", v1_delete)
    checks.exit()


def schema(app_label):
    """Each table of the app has exactly its model's columns and nothing else.

    Compares column names, declared types and nullability as SQLite reports
    them (PRAGMA table_info, through Django's introspection) with what the
    models ask for; the demo runs on SQLite.
    """
    from django.apps import apps
    from django.db import connection

    models = list(apps.get_app_config(app_label).get_models())
    model_tables = {model._meta.db_table for model in models}

    def columns_match(model):
        with connection.cursor() as cursor:
            description = connection.introspection.get_table_description(
                cursor, model._meta.db_table
            )
        # SQLite type names are case-insensitive (a rebuilt table may say
        # INTEGER where Django wrote integer).
        in_db = {c.name: (c.type_code.lower(), c.null_ok) for c in description}
        wanted = {
            f.column: (f.db_type(connection).lower(), f.null)
            for f in model._meta.concrete_fields
        }
        assert in_db == wanted, f"database has {in_db}, model wants {wanted}"
        return ", ".join(
            f"{name} {db_type}{'' if null else ' NOT NULL'}"
            for name, (db_type, null) in in_db.items()
        )

    def no_leftover_tables():
        leftovers = sorted(
            table
            for table in connection.introspection.table_names()
            if table.startswith(f"{app_label}_") and table not in model_tables
        )
        assert not leftovers, f"tables left over: {leftovers}"

    checks = Checks()
    for model in models:
        checks.run(f"table {model._meta.db_table}", lambda m=model: columns_match(m))
    checks.run(f"no {app_label}_* table without a model", no_leftover_tables)
    checks.exit()


def show(app_label):
    from django.apps import apps

    for model in apps.get_app_config(app_label).get_models():
        values = list(model.objects.order_by("pk").values())
        print(f"  {model.__name__}: {values}")


def main(argv):
    if not argv:
        sys.exit(__doc__)
    setup_django()
    command, args = argv[0], argv[1:]
    {"seed": seed, "coexistence": coexistence, "schema": schema, "show": show}[command](
        *args
    )


if __name__ == "__main__":
    main(sys.argv[1:])
