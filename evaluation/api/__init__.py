"""The evaluation API, by role: fields, serializers, filters, views (config/api_router.py routes the views)."""
