"""Notifications: what users are told (in-app and by email) when something concerning them happens.

``events`` says who hears what, called by the services that make the change;
``service`` writes the notifications in that change's transaction and keeps
each user's list and email settings; ``messages`` words them in the reader's
language; ``delivery`` is the email outbox the worker sends from; ``expiry``
the daily notice of certificates ending soon; ``routes`` the pages.
"""
