"""migrate time only: never imported by makemigrations or the checks."""
