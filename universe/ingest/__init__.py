"""SDE ingestion into PostgreSQL, in parts: table specs, dump rows, COPY staging and upserts, the report.

The entry points are :func:`universe.services.sde_ingest` and
:func:`universe.services.sde_graph_rebuild`; the gate graph is written by
:mod:`universe.graph_ingest`.
"""
