"""The accounts API, by role: serializers, filters, views (config/api_router.py routes the views)."""
