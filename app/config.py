"""Settings from the environment (prefix ``WATERGUARD_``).

The embedded default needs nothing set: a SQLite file and a generated secret key under
``var/``. Production mode (``WATERGUARD_ENV=production``) refuses to start without a
strong secret key and a database URL.
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Request
from pydantic import Field, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = Path("var")
MIN_SECRET_KEY_CHARS = 32
MIN_SECRET_KEY_BITS = 128.0
WEAK_SECRETS = {"secret", "changeme", "change-me", "password", "waterguard", "development"}


class Environment(StrEnum):
    development = "development"
    production = "production"


class ConfigError(RuntimeError):
    """Settings that the service cannot start with; the message says what to fix."""


def _shannon_bits(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values())
    return per_char * total


def check_secret_strength(key: str, name: str = "WATERGUARD_SECRET_KEY") -> None:
    """Raise ConfigError unless ``key`` is long and random enough to sign tokens."""
    if len(key) < MIN_SECRET_KEY_CHARS:
        raise ConfigError(
            f"{name} must be at least {MIN_SECRET_KEY_CHARS} characters "
            f"(got {len(key)}); generate one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'"
        )
    if key.lower() in WEAK_SECRETS or _shannon_bits(key) < MIN_SECRET_KEY_BITS:
        raise ConfigError(f"{name} is too predictable; use a random value")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATERGUARD_", extra="ignore")

    env: Environment = Environment.development
    var_dir: Path = DEFAULT_VAR_DIR
    database_url: str = ""
    media_dir: Path | None = None
    secret_key: str = ""
    display_timezone: str = "Asia/Shanghai"
    jwt_audience: str = "waterguard-api"
    jwt_issuer: str = "waterguard"
    access_token_ttl_s: int = Field(default=900, ge=60, le=86_400)
    refresh_token_ttl_s: int = Field(default=14 * 86_400, ge=3_600, le=90 * 86_400)
    # Login throttle (shared by every process through the database): failures of one
    # username beyond login_max_failures wait 1 s, 2 s, 4 s ... up to login_delay_max_s
    # before the next try; one client address may try login_rate_per_minute times a minute.
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_delay_max_s: int = Field(default=60, ge=1, le=3_600)
    login_rate_per_minute: int = Field(default=30, ge=1, le=10_000)
    # Second factor: admin and command must enrol TOTP before anything else (None: on in
    # production mode, off in development, where the demo logs in with passwords alone).
    totp_enforce: bool | None = None
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses
    # or CIDR ranges, e.g. the compose network); empty: the peer address is the client.
    trusted_proxies: str = ""
    # Request bodies: JSON routes; upload routes have their own limits (app.main.body_limits).
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024**2)
    # Egress: webhook and stream URLs must lead to public addresses, or into these networks
    # (comma-separated CIDRs, e.g. a private media server, or 127.0.0.1/32 for the local demo).
    egress_allow: Annotated[list[IPvAnyNetwork], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_json: bool = True
    # Incidents, alerts and follow-up (issue 6).
    incident_group_distance_m: float = Field(default=150.0, gt=0, le=10_000)
    incident_group_window_s: int = Field(default=600, ge=1, le=86_400)
    # A sighting this close to a registered water's edge counts as in the water (fix error).
    sighting_shore_tolerance_m: float = Field(default=15.0, ge=0, le=300)
    embedded_worker: bool = False  # `waterguard serve` turns it on; tests start it themselves
    worker_poll_s: float = Field(default=1.0, gt=0, le=60)
    # Readiness (issue 17): a worker must have beaten this recently, unless turned off.
    ready_requires_worker: bool = True
    worker_heartbeat_max_age_s: float = Field(default=60.0, gt=0, le=3_600)
    db_retry_after_s: int = Field(default=5, ge=1, le=600)  # Retry-After when the DB is down
    sse_poll_s: float = Field(default=30.0, gt=0, le=300)  # safety re-check; wake-ups do the work
    sse_ping_s: int = Field(default=15, ge=1, le=300)
    sse_max_connection_s: float = Field(default=600.0, gt=0, le=86_400)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_concurrency: int = Field(default=32, ge=1, le=256)
    delivery_lease_s: int = Field(default=120, ge=1, le=3_600)
    webhook_secret_overlap_s: int = Field(default=86_400, ge=0, le=30 * 86_400)
    task_reminder_interval_s: int = Field(default=86_400, ge=60, le=30 * 86_400)
    task_escalate_after_s: int = Field(default=2 * 86_400, ge=60, le=90 * 86_400)
    task_remind_before_due_s: int = Field(default=86_400, ge=0, le=30 * 86_400)
    task_education_due_s: int = Field(default=3 * 86_400, ge=60, le=90 * 86_400)
    task_home_visit_due_s: int = Field(default=2 * 86_400, ge=60, le=90 * 86_400)
    # Seconds to wait after each failed webhook attempt; its length is the retry count.
    webhook_retry_schedule_s: tuple[Annotated[int, Field(ge=1, le=7 * 86_400)], ...] = Field(
        default=(5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400),
        min_length=1,
        max_length=20,
    )
    media_url_ttl_s: int = Field(default=120, ge=10, le=3_600)
    retention_minor_days: int = Field(default=30, ge=1, le=3_650)
    retention_adult_days: int = Field(default=90, ge=1, le=3_650)
    # An open referral defers redaction only up to this age; beyond it only a legal hold does.
    retention_ceiling_days: int = Field(default=180, ge=1, le=3_650)
    legal_hold_max_days: int = Field(default=365, ge=1, le=3_650)  # one hold's longest term
    cap_sender: str = Field(default="waterguard.police.example", pattern=r"^[^\s,<&]+$")
    cap_expires_s: int = Field(default=3_600, ge=60, le=7 * 86_400)  # CAP <expires> after <sent>
    # Patrol operations: schedules, sorties, telemetry, conformance (issue 4).
    sortie_turnaround_s: int = Field(default=900, ge=0, le=86_400)  # battery swap/charge
    preflight_min_battery_pct: float = Field(default=80.0, ge=0, le=100)
    conformance_off_route_m: float = Field(default=50.0, gt=0, le=10_000)
    altitude_ceiling_m: float = Field(default=120.0, gt=0, le=10_000)
    altitude_floor_m: float = Field(default=20.0, gt=0, le=10_000)  # lowest planned patrol
    return_battery_pct: float = Field(default=30.0, ge=0, le=100)
    telemetry_silence_s: float = Field(default=15.0, gt=0, le=3_600)
    telemetry_max_ahead_s: float = Field(default=300.0, ge=0, le=86_400)
    # How far a sample may lie before pre-flight or after landing (drone clock skew).
    telemetry_clock_slack_s: float = Field(default=120.0, ge=0, le=86_400)
    # An SRT whose track lies farther than this (median) from the route is another flight's.
    srt_max_route_distance_m: float = Field(default=1_000.0, gt=0, le=1_000_000)
    # Planning fits the district and never blocks the server (issue 13).
    planning_budget_s: float = Field(default=8.0, gt=0, le=600)  # then 422 "too complex"
    area_margin_m: float = Field(default=1_000.0, ge=0, le=50_000)  # beyond a boundary
    area_unbounded_radius_m: float = Field(default=50_000.0, gt=0, le=1_000_000)
    # Detection jobs: uploaded videos and live streams analysed by the worker (issue 5).
    detection_dir: Path | None = None  # uploads and per-job outputs; default var_dir/detection
    detection_model_path: Path | None = None  # .onnx or .pt; default: the shipped ONNX model
    detection_config_path: Path | None = None  # detection YAML; default detection/default.yaml
    detection_max_upload_bytes: int = Field(default=4 * 1024**3, ge=1, le=64 * 1024**3)
    detection_fps: float = Field(default=5.0, gt=0, le=60)  # frames analysed per second
    detection_tile_px: int | None = Field(default=None, ge=0, le=4096)  # None: the model config
    detection_concurrency: int = Field(default=1, ge=0, le=16)  # 0: this process runs none
    detection_lease_s: int = Field(default=120, ge=5, le=3_600)  # silent longer: worker died
    detection_max_attempts: int = Field(default=2, ge=1, le=10)
    detection_resubmit_after_s: int = Field(default=600, ge=30, le=86_400)  # queued this long
    detection_stream_max_s: int = Field(default=4 * 3_600, ge=1, le=86_400)
    detection_stream_report_s: float = Field(default=10.0, gt=0, le=3_600)
    # Storage every replica and worker reaches (issue 15): evidence and uploaded videos.
    # Empty: the local folders (MEDIA_DIR, DETECTION_DIR); s3://bucket/prefix: S3-compatible.
    storage_url: str = Field(
        default="", pattern=r"^(|s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/\S*)?)$"
    )
    storage_endpoint_url: str = Field(default="", pattern=r"^(|https?://\S+)$")  # MinIO, OSS
    storage_region: str = Field(default="", max_length=64)
    storage_access_key_id: str = Field(default="", max_length=256)
    storage_secret_access_key: str = Field(default="", max_length=256, repr=False)
    storage_addressing: str = Field(default="path", pattern=r"^(path|virtual)$")  # OSS: virtual
    detection_threads: int | None = Field(default=None, ge=1, le=64)  # per job; None: ORT picks
    # Distributed engine (issue 15): Celery on this broker when set; unset: all in-process.
    broker_url: str = Field(default="", pattern=r"^(|(amqps?|redis|rediss|memory)://\S*)$")
    redis_url: str = Field(default="", pattern=r"^(|rediss?://\S+)$")  # periodic-task locks
    broker_prefix: str = Field(default="waterguard", pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    beat_tick_s: float = Field(default=1.0, gt=0, le=60)  # timers, relay, reminders, sweep
    # Audit chain (issue 17): HMAC key and signed checkpoints, both outside the database.
    audit_key: str = ""  # default: generated once into var_dir/audit_key
    audit_checkpoint_file: Path | None = None  # default: var_dir/audit_checkpoints.jsonl
    audit_checkpoint_interval_s: int = Field(default=300, ge=10, le=86_400)

    # DJI Cloud API bridge: docks and Pilot 2 over MQTT (issue 14). Unset URL: no bridge.
    mqtt_url: str = Field(default="", pattern=r"^(|mqtts?://\S+)$")
    mqtt_client_id: str = Field(default="waterguard-bridge", min_length=1, max_length=64)
    mqtt_tls_ca_file: Path | None = None  # mqtts://: CA bundle; default the system's
    mqtt_keepalive_s: int = Field(default=10, ge=5, le=600)
    mqtt_reconnect_s: float = Field(default=2.0, gt=0, le=300)
    # QoS is not in DJI's docs (unconfirmed); the defaults are the DJI demo's.
    mqtt_subscribe_qos: int = Field(default=1, ge=0, le=2)
    mqtt_service_qos: int = Field(default=0, ge=0, le=2)
    mqtt_reply_qos: int = Field(default=2, ge=0, le=2)
    dji_service_timeout_s: float = Field(default=3.0, gt=0, le=120)  # DJI demo: 3 s
    dji_service_retries: int = Field(default=2, ge=0, le=10)  # resends, each with a new tid
    dji_offline_after_s: float = Field(default=60.0, gt=0, le=3_600)
    dji_ntp_server_host: str = Field(default="ntp.aliyun.com", min_length=1, max_length=253)
    dji_ntp_server_port: int = Field(default=123, ge=1, le=65_535)
    dji_app_id: str = Field(default="", max_length=64)  # from DJI's developer site
    dji_app_key: str = Field(default="", max_length=200)
    dji_app_license: str = Field(default="", max_length=2_000)
    dji_broker_dir: Path | None = None  # Mosquitto password file + ACL written here
    # Dock flight tasks (issue 14): prepare lead, the KMZ link, dock preflight thresholds.
    dji_prepare_lead_s: int = Field(default=300, ge=0, le=86_400)  # flighttask_prepare ahead
    dji_flight_poll_s: float = Field(default=1.0, gt=0, le=60)  # how often due tasks are sent
    dji_task_silent_s: float = Field(default=120.0, gt=0, le=3_600)  # no progress: failed
    dji_kmz_base_url: str = Field(default="", pattern=r"^(|https?://\S+)$")  # as docks reach us
    dji_kmz_link_ttl_s: int = Field(default=900, ge=30, le=86_400)
    dji_preflight_max_wind_mps: float = Field(default=12.0, ge=0, le=50)  # dock anemometer
    dji_preflight_max_rainfall: int = Field(default=0, ge=0, le=3)  # 0 none .. 3 heavy
    # Warnings from the air (speaker, searchlight): see README "Voice warnings from the air".
    dji_speaker_reach_m: float = Field(default=3_000.0, gt=0, le=50_000)
    dji_speaker_psdk_index: int = Field(default=2, ge=0, le=3)  # unless state names one
    dji_speaker_volume: int = Field(default=80, ge=0, le=100)
    dji_tts_md5: Literal["text", "name_text"] = "text"  # what tts.md5 hashes (unconfirmed)
    dji_searchlight_psdk_index: int = Field(default=2, ge=0, le=3)  # unless state names one
    dji_drc_broker_url: str = Field(default="", pattern=r"^(|mqtts?://\S+)$")
    dji_drc_heartbeat_s: float = Field(default=5.0, gt=0, le=50)  # DJI: exit after 60 s
    dji_auto_warn_poll_s: float = Field(default=0.5, gt=0, le=60)
    # Live video from dock aircraft (issue 14): where the aircraft pushes its stream
    # (``live_start_push``) and where the detector reads it back from the media server.
    # ``{sn}`` (the aircraft) and ``{flight_id}`` are filled in; an empty push URL: no live video.
    dji_live_push_url: str = Field(default="", pattern=r"^(|(rtmps?|rtsp|https?)://\S+)$")
    dji_live_play_url: str = Field(default="", pattern=r"^(|(rtmps?|rtsps?|https?)://\S+)$")
    dji_live_url_type: int = Field(default=1, ge=0, le=4)  # 1 RTMP; 4 WHIP (fact sheet 6)
    dji_live_quality: int = Field(default=0, ge=0, le=4)  # 0 adaptive .. 4 1080p
    dji_live_attempts: int = Field(default=3, ge=1, le=10)  # live_start_push tries per flight

    @field_validator("egress_allow", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("display_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            if self.env is Environment.production:
                raise ConfigError("WATERGUARD_DATABASE_URL is required in production mode")
            self.database_url = f"sqlite:///{self.var_dir / 'waterguard.sqlite3'}"
        if self.media_dir is None:
            self.media_dir = self.var_dir / "media"
        if self.detection_dir is None:
            self.detection_dir = self.var_dir / "detection"
        if self.audit_checkpoint_file is None:
            self.audit_checkpoint_file = self.var_dir / "audit_checkpoints.jsonl"
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def is_demo(self) -> bool:
        """The published demo passwords log in only here (development mode)."""
        return not self.is_production

    @property
    def totp_enforced(self) -> bool:
        return self.is_production if self.totp_enforce is None else self.totp_enforce

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.display_timezone)

    def resolved_secret_key(self) -> str:
        """The key that signs tokens: set, or generated once and kept under ``var/``."""
        return self._resolved_key(self.secret_key, "WATERGUARD_SECRET_KEY", "secret_key")

    def resolved_audit_key(self) -> str:
        """The key of the audit chain's HMAC and checkpoints: set, or generated once and kept
        under ``var/`` beside the secret key (never in the database)."""
        return self._resolved_key(self.audit_key, "WATERGUARD_AUDIT_KEY", "audit_key")

    def _resolved_key(self, value: str, env_name: str, file_name: str) -> str:
        if value:
            check_secret_strength(value, env_name)
            return value
        if self.is_production:
            raise ConfigError(f"{env_name} is required in production mode")
        path = self.var_dir / file_name
        if path.exists():
            key = path.read_text().strip()
            check_secret_strength(key, env_name)
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def settings_of(request: Request) -> Settings:
    """The settings the app was built with (``create_app`` keeps them on ``app.state``)."""
    settings: Settings = request.app.state.settings
    return settings


async def _settings_dependency(request: Request) -> Settings:
    # async: FastAPI calls it on the event loop, not in a worker thread (no thread hop).
    return settings_of(request)


#: The app's settings as a route dependency.
SettingsDep = Annotated[Settings, Depends(_settings_dependency)]
