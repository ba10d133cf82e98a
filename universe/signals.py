"""Signals universe sends; other apps listen (universe imports none of them)."""

from django.dispatch import Signal

# Sent once the gate graph under ``label`` was replaced and committed (keyword argument ``label``).
graph_replaced = Signal()
