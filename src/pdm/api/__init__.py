"""HTTP API: FastAPI application, one router per resource."""
