"""
The model changes benchmarks/write_stall.py deploys: one per catalogue row of
DESIGN.md, and two stock operations the split passes through, each as
release v1's and v2's models of an app ``shop``, the rows the tables are
filled with, and the single-row writes each release makes.

SQL is written once for PostgreSQL and MariaDB: unquoted lower-case names,
``concat()``, ``%`` and literals only (no driver parameters); on SQLite,
write_stall.py turns ``concat(a, b)`` into ``(a || b)``. In ``fill``,
``g`` is the row number (1..count), ``{n}`` the size and ``{m}`` the number
of tags (at most 1000); in ``old`` and ``new``, ``{i}`` is the write's
number, ``{pk}`` a row of the size filled (1..n) and ``{tag}`` a tag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fill:
    table: str
    columns: str
    values: str  # expressions of g, {n}, {m}
    tags: bool = False  # this table holds {m} rows, not {n}


@dataclass(frozen=True)
class Row:
    """
    ``old``: the writes of release v1 (during the contract, or stock's
    migration: v1 still serves); ``new``: those of v2 (during the cleanup,
    which ships once no v1 instance runs).
    """

    name: str
    change: str
    v1: str
    v2: str
    fill: tuple[Fill, ...]
    old: tuple[str, ...]
    new: tuple[str, ...]
    answers: str = ""  # makemigrations' questions ("Did you rename ...?")


ITEMS = Fill("shop_item", "name", "concat('item ', g)")
OWNERS = Fill("shop_owner", "name", "concat('owner ', g)")
INSERT_ITEM = "INSERT INTO shop_item (name) VALUES ('w{i}')"
UPDATE_ITEM = "UPDATE shop_item SET name = 'u{i}' WHERE id = {pk}"
OWNER = "class Owner(models.Model):\n    name = models.CharField(max_length=100)\n"
TAG = "class Tag(models.Model):\n    name = models.CharField(max_length=100)\n"


def item(*fields: str, meta: str = "") -> str:
    body = "".join(
        f"    {field}\n"
        for field in ("name = models.CharField(max_length=100)", *fields)
    )
    return f"class Item(models.Model):\n{body}{meta}"


def with_column(column: str, value: str, update: str) -> tuple[str, ...]:
    return (
        f"INSERT INTO shop_item (name, {column}) VALUES ('w{{i}}', {value})",
        f"UPDATE shop_item SET name = 'u{{i}}', {column} = {update} WHERE id = {{pk}}",
    )


FK = "owner = models.ForeignKey(Owner, models.CASCADE)"
NULLABLE_FK = "owner = models.ForeignKey(Owner, models.CASCADE, null=True)"

ROWS = (
    Row(
        "remove_not_null",
        "RemoveField, NOT NULL, no default",
        item("rating = models.IntegerField()"),
        item(),
        (Fill("shop_item", "name, rating", "concat('item ', g), g % 5"),),
        with_column("rating", "3", "4"),
        (INSERT_ITEM, UPDATE_ITEM),
    ),
    Row(
        "remove_not_null_default",
        "RemoveField, NOT NULL, constant default",
        item("rating = models.IntegerField(default=0)"),
        item(),
        (Fill("shop_item", "name, rating", "concat('item ', g), g % 5"),),
        with_column("rating", "3", "4"),
        (INSERT_ITEM, UPDATE_ITEM),
    ),
    Row(
        "remove_nullable",
        "RemoveField, nullable",
        item("note = models.CharField(max_length=100, null=True)"),
        item(),
        (Fill("shop_item", "name, note", "concat('item ', g), concat('note ', g)"),),
        with_column("note", "'n{i}'", "NULL"),
        (INSERT_ITEM, UPDATE_ITEM),
    ),
    Row(
        "remove_fk",
        "RemoveField of a ForeignKey",
        OWNER + "\n\n" + item(FK),
        OWNER + "\n\n" + item(),
        (OWNERS, Fill("shop_item", "name, owner_id", "concat('item ', g), g")),
        with_column("owner_id", "{pk}", "{pk}"),
        (INSERT_ITEM, UPDATE_ITEM),
    ),
    Row(
        "remove_m2m",
        "RemoveField of a ManyToManyField",
        TAG + "\n\n" + item("tags = models.ManyToManyField(Tag)"),
        TAG + "\n\n" + item(),
        (
            Fill("shop_tag", "name", "concat('tag ', g)", tags=True),
            ITEMS,
            Fill("shop_item_tags", "item_id, tag_id", "g, 1 + g % {m}"),
        ),
        (
            "INSERT INTO shop_item_tags (item_id, tag_id) VALUES ({pk}, {tag})",
            UPDATE_ITEM,
        ),
        (INSERT_ITEM, UPDATE_ITEM),
    ),
    Row(
        "delete_model",
        "DeleteModel (with a ForeignKey)",
        OWNER + "\n\n" + item(FK),
        OWNER,
        (OWNERS, Fill("shop_item", "name, owner_id", "concat('item ', g), g")),
        with_column("owner_id", "{pk}", "{pk}"),
        (
            "INSERT INTO shop_owner (name) VALUES ('w{i}')",
            "UPDATE shop_owner SET name = 'u{i}' WHERE id = {pk}",
        ),
    ),
    Row(
        "add_not_null_default",
        "AddField NOT NULL, constant default",
        item(),
        item("stock = models.IntegerField(default=0)"),
        (ITEMS,),
        (INSERT_ITEM, UPDATE_ITEM),
        with_column("stock", "5", "6"),
    ),
    Row(
        "alter_not_null",
        "AlterField null=True -> False",
        item("note = models.CharField(max_length=100, null=True)"),
        item("note = models.CharField(max_length=100, default='')"),
        (Fill("shop_item", "name, note", "concat('item ', g), concat('note ', g)"),),
        with_column("note", "NULL", "'n{i}'"),  # v1 may write NULL
        with_column("note", "'n{i}'", "'m{i}'"),
    ),
    Row(
        "add_not_null_uuid4",
        "AddField NOT NULL, callable default (uuid4)",
        item(),
        "import uuid\n\n\n" + item("ref = models.UUIDField(default=uuid.uuid4)"),
        (ITEMS,),
        (INSERT_ITEM, UPDATE_ITEM),  # v1 leaves ref out: NULL until the cleanup
        with_column(
            "ref",
            "'00000000-0000-4000-8000-{i:012d}'",
            "'00000000-0000-4000-9000-{i:012d}'",
        ),
    ),
    Row(
        "alter_not_null_callable",
        "AlterField null=True -> False, callable default (uuid4)",
        "import uuid\n\n\n" + item("ref = models.UUIDField(null=True)"),
        "import uuid\n\n\n" + item("ref = models.UUIDField(default=uuid.uuid4)"),
        (ITEMS,),  # every row NULL: the cleanup fills them all
        with_column("ref", "NULL", "NULL"),  # v1 may write NULL
        with_column(
            "ref",
            "'00000000-0000-4000-8000-{i:012d}'",
            "'00000000-0000-4000-9000-{i:012d}'",
        ),
    ),
    Row(
        "add_fk_nullable",
        "AddField of a nullable ForeignKey (split)",
        OWNER + "\n\n" + item(),
        OWNER + "\n\n" + item(NULLABLE_FK),
        (OWNERS, ITEMS),
        (INSERT_ITEM, UPDATE_ITEM),
        with_column("owner_id", "{pk}", "{pk}"),
    ),
    Row(
        "add_index",
        "AddIndex (passes through)",
        item(),
        item(
            meta="\n    class Meta:\n        indexes = [models.Index(fields=['name'])]\n"
        ),
        (ITEMS,),
        (INSERT_ITEM, UPDATE_ITEM),
        (INSERT_ITEM, UPDATE_ITEM),
    ),
    Row(
        "rename_field",
        "RenameField, NOT NULL",
        item("title = models.CharField(max_length=100)"),
        item("headline = models.CharField(max_length=100)"),
        (Fill("shop_item", "name, title", "concat('item ', g), concat('t', g)"),),
        with_column("title", "'t{i}'", "'v{i}'"),
        with_column("headline", "'h{i}'", "'g{i}'"),
        answers="y\n",
    ),
    Row(
        "rename_model_m2m",
        "RenameModel of a model another model's ManyToManyField points at",
        OWNER + '    items = models.ManyToManyField("shop.Item")\n\n\n' + item(),
        OWNER
        + '    items = models.ManyToManyField("shop.Product")\n\n\n'
        + item().replace("class Item(", "class Product("),
        (
            OWNERS,
            ITEMS,
            Fill("shop_owner_items", "owner_id, item_id", "g, 1 + g % 1000"),
        ),
        # A link each third write, to an item no filled link names: 1001 and
        # up (v1), 2001 and up (v2), one per write.
        (
            INSERT_ITEM,
            UPDATE_ITEM,
            "INSERT INTO shop_owner_items (owner_id, item_id) VALUES ({pk}, 1001 + {i})",
        ),
        (
            "INSERT INTO shop_product (name) VALUES ('w{i}')",
            "UPDATE shop_product SET name = 'u{i}' WHERE id = {pk}",
            "INSERT INTO shop_owner_items (owner_id, product_id) "
            "VALUES ({pk}, 2001 + {i})",
        ),
        answers="y\n",
    ),
    Row(
        "rename_model",
        "RenameModel",
        item(),
        item().replace("class Item(", "class Product("),
        (ITEMS,),
        (INSERT_ITEM, UPDATE_ITEM),
        (
            "INSERT INTO shop_product (name) VALUES ('w{i}')",
            "UPDATE shop_product SET name = 'u{i}' WHERE id = {pk}",
        ),
        answers="y\n",
    ),
    Row(
        "rename_model_own_m2m",
        "RenameModel of a model with a ManyToManyField",
        OWNER + "\n\n" + item('owners = models.ManyToManyField("shop.Owner")'),
        OWNER
        + "\n\n"
        + item('owners = models.ManyToManyField("shop.Owner")').replace(
            "class Item(", "class Product("
        ),
        (
            OWNERS,
            ITEMS,
            Fill("shop_item_owners", "item_id, owner_id", "g, 1 + g % 1000"),
        ),
        # A link each third write, to an owner no filled link of that item
        # names: 1001 and up (v1), 2001 and up (v2).
        (
            INSERT_ITEM,
            UPDATE_ITEM,
            "INSERT INTO shop_item_owners (item_id, owner_id) VALUES ({pk}, 1001 + {i})",
        ),
        (
            "INSERT INTO shop_product (name) VALUES ('w{i}')",
            "UPDATE shop_product SET name = 'u{i}' WHERE id = {pk}",
            "INSERT INTO shop_product_owners (product_id, owner_id) "
            "VALUES ({pk}, 2001 + {i})",
        ),
        answers="y\n",
    ),
    Row(
        "rename_fk",
        "RenameField of a ForeignKey",
        OWNER + "\n\n" + item(FK),
        OWNER + "\n\n" + item("holder = models.ForeignKey(Owner, models.CASCADE)"),
        (OWNERS, Fill("shop_item", "name, owner_id", "concat('item ', g), g")),
        with_column("owner_id", "{pk}", "{pk}"),
        with_column("holder_id", "{pk}", "{pk}"),
        answers="y\n",
    ),
)


# Type changes the vendors cannot make in place (issue 27, item 1): the
# contract adds a second column of the new type, kept equal by triggers and
# backfilled; the cleanup swaps the names. A change one vendor makes in
# place (varchar to text on PostgreSQL) passes through there.
ROWS += tuple(
    Row(
        name,
        change,
        item(f"{column} = models.{old}"),
        item(f"{column} = models.{new}"),
        (Fill("shop_item", f"name, {column}", f"concat('item ', g), {filled}"),),
        with_column(column, *writes),  # both releases write the column
        with_column(column, *writes),
    )
    for name, change, column, old, new, filled, writes in (
        (
            "retype_bigint",
            "IntegerField -> BigIntegerField",
            "count",
            "IntegerField()",
            "BigIntegerField()",
            "g",
            ("{i}", "{i} + 1"),
        ),
        (
            "retype_text",
            "CharField(50) -> TextField",
            "note",
            "CharField(max_length=50)",
            "TextField()",
            "concat('note ', g)",
            ("'n{i}'", "'m{i}'"),
        ),
    )
)


# New unique and check constraints (issue 27, item 3): they pass through the
# split (the verifier warns), and migrate builds them online.
CODED = ("code = models.CharField(max_length=40)", "price = models.IntegerField()")
CODES = Fill(
    "shop_item",
    "name, code, price",
    "concat('item ', g), concat('code ', g), 1 + g % 100",
)
CODED_WRITES = (
    "INSERT INTO shop_item (name, code, price) VALUES ('w{i}', 'w{i}', 5)",
    "UPDATE shop_item SET name = 'u{i}', price = 7 WHERE id = {pk}",
)


def constrained(meta: str = "", code: str = CODED[0]) -> str:
    return item(
        code, CODED[1], meta=f"\n    class Meta:\n        {meta}\n" if meta else ""
    )


ROWS += tuple(
    Row(name, change, item(*CODED), v2, (CODES,), CODED_WRITES, CODED_WRITES)
    for name, change, v2 in (
        (
            "add_unique",
            "unique=True (passes through)",
            constrained(code="code = models.CharField(max_length=40, unique=True)"),
        ),
        (
            "add_unique_constraint",
            "UniqueConstraint (passes through)",
            constrained(
                "constraints = [models.UniqueConstraint(fields=['name', 'code'], "
                "name='item_name_code_uq')]"
            ),
        ),
        (
            "add_conditional_unique",
            "conditional UniqueConstraint (passes through)",
            constrained(
                "constraints = [models.UniqueConstraint(fields=['code'], "
                "condition=models.Q(price__gt=0), name='item_code_priced_uq')]"
            ),
        ),
        (
            "add_unique_together",
            "unique_together (passes through)",
            constrained("unique_together = [('name', 'code')]"),
        ),
        (
            "add_check",
            "CheckConstraint (passes through)",
            constrained(
                "constraints = [models.CheckConstraint("
                "condition=models.Q(price__gte=0), name='item_price_gte_0')]"
            ),
        ),
    )
)
