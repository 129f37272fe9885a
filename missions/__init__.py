"""Waterguard planning core."""
