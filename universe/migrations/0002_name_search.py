"""Name search (universe.search): on lower(name) of types, systems, stations and regions, a btree index
(text_pattern_ops: exact and prefix matches in name order) and a trigram GIN index (pg_trgm: fuzzy matches).

Written as SQL: Django renders an ``OpClass`` of an expression inside a GIN index without the parentheses
PostgreSQL needs.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TABLES = {
    "universe_itemtype": "universe_type_name",
    "universe_solarsystem": "universe_system_name",
    "universe_station": "universe_station_name",
    "universe_region": "universe_region_name",
}
INDEXES = {
    "trgm": "USING gin ((lower(name)) gin_trgm_ops)",
    "prefix": "((lower(name)) text_pattern_ops)",
}


class Migration(migrations.Migration):
    dependencies = [("universe", "0001_initial")]

    operations = [
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
        TrigramExtension(),
        *(
            migrations.RunSQL(
                sql=f"CREATE INDEX {index}_{suffix} ON {table} {definition}",
                reverse_sql=f"DROP INDEX {index}_{suffix}",
            )
            for table, index in TABLES.items()
            for suffix, definition in INDEXES.items()
        ),
    ]
