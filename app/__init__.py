"""Waterguard service: HTTP API, persistence, workers."""
