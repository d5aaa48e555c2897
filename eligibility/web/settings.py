"""What the operator of `qpv serve` can set. Safe defaults: loopback, no CORS, no personal data in logs."""
from __future__ import annotations

from pydantic import BaseModel, Field


class WebSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # A JSON body (facts of one case) is small; a CSV upload may be large but is spooled to disk.
    max_body_bytes: int = Field(256 * 1024, ge=1)
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1)
    # Time limit of one request; batch requests get their own, longer one.
    request_timeout_s: float = Field(30.0, gt=0)
    batch_timeout_s: float = Field(600.0, gt=0)
    # Origins allowed by CORS; empty means CORS is off (no header is ever sent).
    cors_origins: list[str] = []
    # Optional raster tile URL template ({z}/{x}/{y}); without one, perimeters are drawn on a plain background.
    tile_url: str | None = None
    tile_attribution: str = ""
    # Coordinates and addresses are personal data: logged only when the operator asks.
    log_personal_data: bool = False
    # Register of decisions (docs/register.md): when `record` is on, every answer, located point and
    # attestation served is recorded first, and a register that cannot write makes those endpoints 503.
    record: bool = False
    register_url: str | None = None  # None: QPV_REGISTER_URL, else the SQLite file of the user data dir
    register_keep_facts: bool = False  # facts in full (personal data) beside each entry, else their hash only
    register_api: bool = False  # GET /api/register and /api/register/{id}, loopback clients only
