"""The web plumbing under every view: the request boundary (``web``), base forms, security headers,
request-size guards, rate limits, logging and error tracking, URL converters and the locale."""
