"""Every table, imported in one place so that Alembic sees the whole schema."""

from app.accounts.models import AppUser
from app.applications.models import Application
from app.audit.models import AuditEvent, AuditSeal
from app.auth.models import AuthSession, OutboxEmail, PasswordResetToken
from app.claims_notices.models import ClaimFileEntry, ClaimNotice, DeductibleCall
from app.core.db import Base
from app.core.idempotency import IdempotentAnswer
from app.documents.models import Document, DocumentContent
from app.exemptions.models import Exemption
from app.firms.models import Firm
from app.payments.models import (
    CollectionAttempt,
    LedgerEntry,
    PaymentAccount,
    PaymentAuthorization,
    PaymentRefund,
    ProcessorEvent,
    Receivable,
    RefundPayeeRequest,
    SimulatedCallback,
    SimulatedCharge,
    SimulatedRefund,
)
from app.policies.models import MidTermChange, Policy
from app.quotes.models import Quote, RateTableRecord

__all__ = [
    "AppUser",
    "Application",
    "AuditEvent",
    "AuditSeal",
    "AuthSession",
    "Base",
    "ClaimFileEntry",
    "ClaimNotice",
    "CollectionAttempt",
    "DeductibleCall",
    "Document",
    "DocumentContent",
    "Exemption",
    "Firm",
    "IdempotentAnswer",
    "LedgerEntry",
    "MidTermChange",
    "OutboxEmail",
    "PasswordResetToken",
    "PaymentAccount",
    "PaymentAuthorization",
    "PaymentRefund",
    "Policy",
    "ProcessorEvent",
    "Quote",
    "RateTableRecord",
    "Receivable",
    "RefundPayeeRequest",
    "SimulatedCallback",
    "SimulatedCharge",
    "SimulatedRefund",
]
