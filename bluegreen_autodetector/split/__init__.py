"""makemigrations: Django's changes become a contract and its cleanup (no file is written here)."""
