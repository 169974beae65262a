"""Request and response models of /auth/...: a key or password hash never appears in a response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from mlsec.core.auth import API_KEY_MAX_CHARS, PrincipalKind, Role
from mlsec.core.strict import JsonBool

Username = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]
KeyName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._@:-]*$")]


class TokenRequest(BaseModel):
    """Either a username and password, or an API key."""

    model_config = ConfigDict(extra="forbid")

    username: Username | None = None
    password: SecretStr | None = Field(None, min_length=1, max_length=256)
    api_key: SecretStr | None = Field(None, min_length=1, max_length=API_KEY_MAX_CHARS)

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        by_password = self.username is not None and self.password is not None and self.api_key is None
        by_key = self.api_key is not None and self.username is None and self.password is None
        if not (by_password or by_key):
            raise ValueError("give either username and password, or api_key")
        return self


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_in: int
    role: Role


class SessionRead(BaseModel):
    """A dashboard session: who is signed in, and the CSRF token its writes carry (the session token itself
    travels only in the HttpOnly cookie)."""

    subject: str
    role: Role
    kind: PrincipalKind
    csrf_token: str | None = Field(description="Send as X-CSRF-Token on every write; null without a session cookie.")
    expires_in: int | None = Field(None, description="Seconds until the session ends (on sign-in).")


class PrincipalRead(BaseModel):
    subject: str
    role: Role
    kind: PrincipalKind
    key_id: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyName
    role: Role = Role.VIEWER


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: str
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by: str | None


class ApiKeyCreated(ApiKeyRead):
    api_key: str = Field(description="The full key. Shown this once: only its hash is stored.")


class ApiKeyList(BaseModel):
    keys: list[ApiKeyRead]
    count: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: SecretStr = Field(min_length=12, max_length=256)
    role: Role = Role.VIEWER


class UserUpdate(BaseModel):
    """What changes of a user: the role, whether they are disabled, or both (absent: unchanged)."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: JsonBool | None = None  # `0` is not false

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.role is None and self.disabled is None:
            raise ValueError("give role, disabled, or both")
        return self


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    role: Role
    created_at: datetime
    disabled: bool


class UserList(BaseModel):
    users: list[UserRead]
    count: int
