"""gunicorn's settings for the app: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Workers, address and logs stay on the command line; this file only holds what
the app needs from the server. Each worker keeps the scans of the last moment
in memory (``traceability.public.scan_buffer``): a worker that stops
gracefully (SIGTERM or SIGINT to gunicorn, SIGQUIT, ``--max-requests``, a
reload with SIGHUP) writes them before it exits.
"""

# gunicorn 25.1+ opens a control socket at one path per user
# ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl), so two servers
# run by one user (the app and a second site, or bench/public.py's two) would
# take each other's socket. Signals (systemd's ExecReload, kill -TERM) manage
# the server instead.
control_socket_disable = True


def worker_exit(server, worker):
    """Write the scans the worker still holds, in the worker process, as it exits."""
    app = getattr(worker, "wsgi", None)  # the Flask app once the worker has loaded it
    scan_buffer = getattr(app, "extensions", {}).get("scan_buffer")
    if scan_buffer is not None:
        scan_buffer.close()
