"""Batches, items, key tracking events, lineage and recalls."""
