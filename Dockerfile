# syntax=docker/dockerfile:1
# Waterguard API image. Build: docker build -t waterguard .
# Run:  docker run -e WATERGUARD_ENV=production -e WATERGUARD_SECRET_KEY=... \
#         -e WATERGUARD_AUDIT_KEY=... -v waterguard-var:/var/lib/waterguard \
#         -e WATERGUARD_DATABASE_URL=postgresql+psycopg://... -p 8000:8000 waterguard

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies first (cached while only the source changes).
COPY pyproject.toml README.md LICENSE ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip \
 && mkdir -p app missions detection && touch app/__init__.py missions/__init__.py detection/__init__.py \
 && /opt/venv/bin/pip install . && /opt/venv/bin/pip uninstall -y waterguard
COPY app ./app
COPY missions ./missions
COPY detection ./detection
# Model weights ship inside the package (detection/weights); nothing is downloaded at start.
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 YOLO_OFFLINE=1 \
    WATERGUARD_VAR_DIR=/var/lib/waterguard
# A CJK font for the Chinese PDF season report (found at run time, never downloaded).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /srv/waterguard waterguard \
 && mkdir -p /var/lib/waterguard /srv/waterguard \
 && chown waterguard /var/lib/waterguard
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/waterguard
COPY alembic.ini prestart.sh ./
COPY alembic ./alembic
USER waterguard
EXPOSE 8000
ENTRYPOINT ["./prestart.sh"]
CMD ["waterguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
