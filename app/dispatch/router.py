from __future__ import annotations

from fastapi import APIRouter

from app.db import SessionDep, utcnow
from app.dispatch import service as dispatch_service
from app.dispatch.permissions import PolicyManager, PolicyReader
from app.dispatch.schemas import EscalationPolicyBody, EscalationPolicyRead
from app.errors import ERROR_RESPONSES
from app.schemas import PathId

policy_router = APIRouter(
    prefix="/escalation-policies", tags=["incidents"], responses=ERROR_RESPONSES
)


def _policy_read(district_id: int, value: dispatch_service.PolicyValue) -> EscalationPolicyRead:
    return EscalationPolicyRead(
        district_id=district_id,
        rungs=list(value.rungs),
        ack_expiry_s=value.ack_expiry_s,
        warning_grace_s=value.warning_grace_s,
        first_response_s=value.first_response_s,
        repage_interval_s=value.repage_interval_s,
        max_unit_distance_m=value.max_unit_distance_m,
        is_default=value.is_default,
    )


@policy_router.get("/{district_id}", response_model=EscalationPolicyRead)
def get_escalation_policy(
    district_id: PathId, session: SessionDep, principal: PolicyReader
) -> EscalationPolicyRead:
    return _policy_read(district_id, dispatch_service.get_policy(session, principal, district_id))


@policy_router.put("/{district_id}", response_model=EscalationPolicyRead)
def put_escalation_policy(
    district_id: PathId, body: EscalationPolicyBody, session: SessionDep, principal: PolicyManager
) -> EscalationPolicyRead:
    value = dispatch_service.put_policy(session, principal, district_id, body, utcnow())
    return _policy_read(district_id, value)
