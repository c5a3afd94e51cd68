"""The SQL the app runs, shipped inside the package as `core.sql` (see setup.py).

Top level: the Postgres migrations, applied in file-name order (core/jobs/migrations.py).
`sqlite/schema.sql`: the same tables for the embedded SQLite database.
`queries/<dialect>.sql`: the stores' statements as named blocks (core/jobs/queries.py).
This file only makes the folder importable, so importlib.resources finds it when installed.
"""
