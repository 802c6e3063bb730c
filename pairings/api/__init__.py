"""The pairings API, by role: fields, permissions, serializers, filters, views (config/api_router.py routes the
views)."""
