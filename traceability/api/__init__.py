"""The JSON API v1 under /api/v1, with bearer tokens and a generated OpenAPI document."""
