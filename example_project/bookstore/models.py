"""Bookstore models, release v1. Release v2 is models_v2.py.txt beside this file."""

from django.db import models


class Font(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Book(models.Model):
    title = models.CharField(max_length=200)
    # A non-null foreign key: once v2 drops it, v2's deletes of Font rows
    # must not be blocked by the database constraint while v1 still runs.
    font = models.ForeignKey(Font, on_delete=models.CASCADE)

    def __str__(self):
        return self.title


class Product(models.Model):
    name = models.CharField(max_length=255)
    # NOT NULL with no default: once v2 drops it, v2's INSERTs omit it.
    rating = models.IntegerField()

    def __str__(self):
        return self.name
