"""The one packaging rule pyproject.toml cannot state: the top-level `sql/` folder ships as `core.sql`.

`sql/` stays at the top of the repository, where a Supabase user finds the migrations to paste
into the SQL editor; the app reads the same files from the installed package with
importlib.resources (core/jobs/queries.py), so a wheel or an editable install carries them.
Everything else about the distribution is in pyproject.toml.
"""

from setuptools import find_packages, setup

SQL_PACKAGES = ["core.sql", "core.sql.sqlite", "core.sql.queries"]

setup(
    packages=[*find_packages(include=["core*", "api*", "ui*", "cli*", "modal_app*"]), *SQL_PACKAGES],
    package_dir={"core.sql": "sql"},
)
