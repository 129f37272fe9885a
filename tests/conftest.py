"""Shared by every test ring: nothing here may import the app (the cores test alone)."""

import os

os.environ.setdefault("YOLO_OFFLINE", "1")
