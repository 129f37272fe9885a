#!/usr/bin/env sh
# Run before the server starts (Docker entrypoint): apply migrations, never inside the app.
set -e
waterguard migrate
exec "$@"
