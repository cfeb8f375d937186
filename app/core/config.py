"""Settings: environment variables (and a `.env` file), names fixed by the public contract."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that appear in tutorials and sample files: never acceptable as a production key.
KNOWN_DEFAULT_KEYS = frozenset(
    {
        "",
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "secret-key",
        "secretkey",
        "your-secret-key",
        "dev",
        "development",
        "insecure",
        "test",
    }
)
MIN_PRODUCTION_KEY_LENGTH = 32


class AppEnv(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: AppEnv = AppEnv.development
    database_url: str | None = None
    data_dir: Path = Path(".data")
    secret_key: str | None = None
    audit_key: str | None = Field(
        default=None, description="Key of the audit trail's HMAC; derived from SECRET_KEY if unset."
    )

    session_idle_timeout_seconds: int = Field(default=3600, gt=0)
    session_absolute_timeout_seconds: int = Field(default=43200, gt=0)
    lockout_threshold: int = Field(default=5, gt=0)
    lockout_duration_seconds: int = Field(default=1800, gt=0)
    password_reset_ttl_seconds: int = Field(default=1800, gt=0)

    cors_origins: str = ""
    rate_limit_storage: str = "memory://"
    auth_rate_limit: int = Field(
        default=20, gt=0, description="POST /auth/token per client and window"
    )
    auth_rate_window_seconds: int = Field(default=60, gt=0)
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token for GET /metrics; without one, /metrics is off in production",
    )
    anonymous_window_seconds: int = Field(
        default=60, gt=0, description="Window over which refusals naming nobody are counted"
    )
    anonymous_rate_limit: int = Field(
        default=120, gt=0, description="Refusals naming nobody per client and window, then 429"
    )
    max_body_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest request body accepted (413 beyond it)"
    )
    idempotency_key_ttl_seconds: int = Field(
        default=86_400, gt=0, description="How long an Idempotency-Key's first answer is kept"
    )
    max_upload_bytes: int = Field(
        default=10_485_760,
        gt=0,
        description="Largest file accepted in a multipart/form-data upload (413 beyond it)",
    )
    trusted_proxies: str = Field(
        default="", description="Comma-separated proxy IPs whose X-Forwarded-For is believed"
    )

    payment_data_key: str | None = Field(
        default=None,
        description="Keys that encrypt account numbers: comma-separated key_id:base64key, the "
        "current key first; unset in development: generated and kept in the data folder",
    )
    processor_webhook_secret: str | None = Field(
        default=None,
        description="Shared secret of the payment processor's signed callbacks; unset in "
        "development: derived from the signing key",
    )
    processor_webhook_tolerance_seconds: int = Field(
        default=300, gt=0, description="How old a processor callback's timestamp may be"
    )

    jwt_issuer: str = "lpl-portal"
    jwt_audience: str = "lpl-portal-api"
    session_cookie_name: str = "__Host-lpl_session"

    audit_seal_interval_seconds: float = Field(
        default=10.0, ge=0, description="0 turns the background sealer off"
    )
    db_pool_size: int = Field(default=10, gt=0)
    log_level: str = "INFO"
    fastapi_telemetry: bool = Field(
        default=False,
        description="FastAPI's own OpenTelemetry spans, metrics and logs, to the providers the "
        "process configures; off, a request does not look the providers up",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env is AppEnv.production:
            key = self.secret_key or ""
            if key.strip().lower() in KNOWN_DEFAULT_KEYS or len(key) < MIN_PRODUCTION_KEY_LENGTH:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least "
                    f"{MIN_PRODUCTION_KEY_LENGTH} characters when APP_ENV=production"
                )
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set when APP_ENV=production")
            if not self.payment_data_key:
                raise ValueError("PAYMENT_DATA_KEY must be set when APP_ENV=production")
            if not self.processor_webhook_secret:
                raise ValueError("PROCESSOR_WEBHOOK_SECRET must be set when APP_ENV=production")
        if any("*" in origin for origin in self.cors_origin_list):
            # with credentials allowed, a wildcard would let every site read with the cookie
            raise ValueError("CORS_ORIGINS must name each SPA origin; '*' is never accepted")
        if self.session_absolute_timeout_seconds < self.session_idle_timeout_seconds:
            raise ValueError("SESSION_ABSOLUTE_TIMEOUT_SECONDS must not be below the idle timeout")
        return self

    @cached_property
    def signing_key(self) -> str:
        """SECRET_KEY, or in development a random key kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @cached_property
    def payment_data_keys(self) -> str:
        """PAYMENT_DATA_KEY, or in development a random key kept in the data folder."""
        if self.payment_data_key:
            return self.payment_data_key
        path = self.data_dir / "payment_data_key"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode()
        try:  # created once: several workers starting at once keep the first one's key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(key)
        return key

    @cached_property
    def webhook_secret(self) -> str:
        """PROCESSOR_WEBHOOK_SECRET, or in development one derived from the signing key."""
        if self.processor_webhook_secret:
            return self.processor_webhook_secret
        derived = hmac.new(self.signing_key.encode(), b"processor-webhook", hashlib.sha256)
        return derived.hexdigest()

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def trusted_proxy_list(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())
