"""What a detection job refuses or cannot do: one error per case, in the error envelope."""

from __future__ import annotations

from typing import ClassVar

from app.errors import AppError, Conflict, NotFound, Unprocessable


class DetectionJobNotFound(NotFound):
    pass


class SortieNotFlown(Conflict):
    pass


class SortieNotFlying(Conflict):
    pass


class DetectionJobFinished(Conflict):
    pass


class VideoTooLarge(AppError):
    status_code = 413


class UnsupportedVideo(AppError):
    status_code = 415


class UploadStoreUnavailable(AppError):
    """The shared storage (``STORAGE_URL``) did not take the upload; send it again."""

    status_code = 503
    headers: ClassVar[dict[str, str] | None] = {"Retry-After": "30"}


class EmptyVideo(Unprocessable):
    pass


class InvalidSrtFile(Unprocessable):
    pass


class JobNotRunnable(Exception):
    """The job's inputs cannot be assembled (its files are gone, its sortie moved...)."""
