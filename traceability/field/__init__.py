"""The field app: a producer records key events on a phone, offline, and they are sent when the signal returns.

An installable web app under ``/field/`` (manifest, service worker, icons in
``static/field/``) for producer users. It picks one of the producer's open
lots (searched by lot code, or read from its QR label with the camera),
records an event (type, time, place, quantity, note, a photo compressed on the
phone, the phone's position when allowed) into the phone's IndexedDB, and
sends the queue one event at a time to ``POST /field/events`` with the
session cookie, its CSRF token and the ``Idempotency-Key`` the phone gave the
event when it was recorded: a retried or doubled send never stores an event
twice (``traceability.idempotency``). Events go through
``batches.service.record_event`` like every other; a lot recalled or used up
meanwhile, or a quantity no longer there, comes back as the item's own error.
"""
