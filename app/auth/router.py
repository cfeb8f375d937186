"""HTTP for logins, logout and passwords."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request, Response, status

from app.auth import service
from app.auth.dependencies import CurrentPrincipal, limit_reset_requests, limit_token_requests
from app.auth.errors import UnsupportedGrant
from app.auth.schemas import (
    Accepted,
    PasswordChange,
    PasswordChanged,
    PasswordResetConfirm,
    PasswordResetRequest,
    TokenRead,
    TokenRequest,
)
from app.core.errors import FieldError, Forbidden, InvalidInput, problem_responses
from app.core.routing import DomainRouter
from app.core.unit_of_work import UnitOfWork, audited_as

router = DomainRouter(prefix="/auth", tags=["auth"])


def _origin_allowed(request: Request) -> bool:
    """No Origin (not a browser page: an integration, curl), the service's own origin, or an
    origin of CORS_ORIGINS (the SPA)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own or origin in request.app.state.settings.cors_origin_list


def _set_session_cookie(response: Response, name: str, token: str) -> None:
    # A session cookie: no Expires or Max-Age, so the browser forgets it when it closes.
    response.set_cookie(name, token, httponly=True, secure=True, samesite="strict", path="/")


@router.post(
    "/token",
    operation_id="createToken",
    openapi_extra=audited_as("auth.login"),
    summary="Log in (OAuth2 password or client credentials)",
    response_model=TokenRead,
    responses=problem_responses(400, 401, 403, 422, 429),
    dependencies=[Depends(limit_token_requests)],
)
async def create_token(
    unit: UnitOfWork,
    request: Request,
    response: Response,
    form: Annotated[TokenRequest, Form()],
) -> TokenRead:
    grant_type, username, password = form.grant_type, form.username, form.password
    client_id, client_secret = form.client_id, form.client_secret
    if grant_type == service.PASSWORD_GRANT:
        name, secret, fields = username, password, ("username", "password")
    elif grant_type == service.CLIENT_CREDENTIALS_GRANT:
        name, secret, fields = client_id, client_secret, ("client_id", "client_secret")
    else:
        raise UnsupportedGrant()
    missing = [
        FieldError(f, "missing", "Field required")
        for f, v in zip(fields, (name, secret), strict=True)
        if not v
    ]
    if missing or name is None or secret is None:
        raise InvalidInput(errors=missing)
    if not _origin_allowed(request):
        # A login posted by another site's page would put its account's session in the
        # victim's browser (login CSRF); a browser always names the page's origin on a POST.
        raise Forbidden("A login from this page's origin is not accepted.")
    issued = await service.login(unit, grant_type=grant_type, username=name, secret=secret)
    if grant_type == service.PASSWORD_GRANT:
        _set_session_cookie(response, unit.settings.session_cookie_name, issued.access_token)
    response.headers["Cache-Control"] = "no-store"
    return TokenRead(
        access_token=issued.access_token,
        token_type="bearer",  # noqa: S106 (the token type, not a secret)
        expires_in=issued.expires_in,
    )


@router.post(
    "/logout",
    operation_id="logout",
    openapi_extra=audited_as("auth.logout"),
    summary="End the current session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403),
)
async def logout(unit: UnitOfWork, principal: CurrentPrincipal, response: Response) -> Response:
    await service.logout(unit, principal)
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(
        unit.settings.session_cookie_name, httponly=True, secure=True, samesite="strict", path="/"
    )
    return response


@router.post(
    "/password",
    operation_id="changePassword",
    openapi_extra=audited_as("auth.password_change"),
    summary="Change your password (ends your other sessions)",
    response_model=PasswordChanged,
    responses=problem_responses(401, 403, 422),
)
async def change_password(
    unit: UnitOfWork, principal: CurrentPrincipal, body: PasswordChange
) -> PasswordChanged:
    ended = await service.change_password(
        unit, principal, current=body.current_password, new=body.new_password
    )
    return PasswordChanged(other_sessions_ended=ended)


@router.post(
    "/password-reset",
    operation_id="requestPasswordReset",
    openapi_extra=audited_as("auth.password_reset_request"),
    summary="Ask for a password reset code by e-mail",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Accepted,
    responses=problem_responses(422, 429),
    dependencies=[Depends(limit_reset_requests)],
)
async def request_password_reset(unit: UnitOfWork, body: PasswordResetRequest) -> Accepted:
    await service.request_password_reset(unit, body.username)
    return Accepted(
        detail="If the account exists and has an e-mail address, a reset code is on its way."
    )


@router.post(
    "/password-reset/confirm",
    operation_id="confirmPasswordReset",
    openapi_extra=audited_as("auth.password_reset"),
    summary="Set a new password with a reset code (ends every session)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422, 429),
    dependencies=[Depends(limit_reset_requests)],
)
async def confirm_password_reset(unit: UnitOfWork, body: PasswordResetConfirm) -> Response:
    await service.confirm_password_reset(unit, token=body.token, new_password=body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
