"""Model sources shared by tests: the smallest change the split handles."""

# v1 -> v2 removes a NOT NULL column: the contract relaxes it, the cleanup
# drops it.
BOOK_WITH_RATING = """
class Book(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
"""

BOOK = """
class Book(models.Model):
    title = models.CharField(max_length=200)
"""
