"""Start, stop and check the local PostgreSQL, Redis and Neo4j servers (``scripts/services.sh``).

Runs on a Debian machine without Docker. PostgreSQL and Redis come from
Debian's packages; Neo4j Community and APOC come from Maven Central through
the pinned poms in ``scripts/neo4j/``. A server whose URL points at another
host is left alone. Every step is idempotent. One module per server
(:mod:`~scripts.servers.postgres`, :mod:`~scripts.servers.redis`,
:mod:`~scripts.servers.neo4j`), shared helpers in :mod:`~scripts.servers.common`,
the command line in :mod:`~scripts.servers.main`.
"""
