"""Backup and restore of the database and the uploaded files (``flask backup``, ``flask restore``)."""
