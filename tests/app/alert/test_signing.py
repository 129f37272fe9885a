from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.alert.signing import KeyRing, rotated, signature, verify

# The Standard Webhooks specification's published test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signatures_match_the_standard_webhooks_test_vector() -> None:
    assert signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE


def test_a_receiver_accepts_any_listed_signature_and_refuses_a_changed_body() -> None:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": f"v1,bm90LXRoaXM= {VECTOR_SIGNATURE}",
    }

    assert verify(VECTOR_SECRET, headers, VECTOR_BODY)
    assert not verify(VECTOR_SECRET, headers, VECTOR_BODY + b" ")


def test_derived_secrets_differ_per_salt_version_and_service_key() -> None:
    ring = KeyRing("service-key-" + "a" * 40)

    first = ring.secret("salt-a", 1)

    assert first.startswith("whsec_")
    assert len({first, ring.secret("salt-a", 2), ring.secret("salt-b", 1)}) == 3
    assert KeyRing("service-key-" + "b" * 40).secret("salt-a", 1) != first
    assert ring.secret("salt-a", 1) == first


def test_after_rotation_the_old_secret_signs_only_until_the_overlap_ends() -> None:
    ring = KeyRing("service-key-" + "a" * 40)
    now = datetime(2026, 7, 1, tzinfo=UTC)
    keys = rotated([{"version": 1, "expires_at": None}], now=now, overlap_s=3600)

    during = ring.active("salt", keys, now + timedelta(minutes=30))
    after = ring.active("salt", keys, now + timedelta(minutes=61))

    assert during == [ring.secret("salt", 2), ring.secret("salt", 1)]
    assert after == [ring.secret("salt", 2)]


def test_rotation_without_overlap_drops_the_old_secret_at_once() -> None:
    now = datetime(2026, 7, 1, tzinfo=UTC)

    keys = rotated([{"version": 3, "expires_at": None}], now=now, overlap_s=0)

    assert keys == [{"version": 4, "expires_at": None}]
