from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

agent_id_validator = RegexValidator(
    r"^[0-9A-Za-z_.-]{2,20}$",
    _("Agent ID may contain only letters, digits, dot, dash and underscore (2–20 characters)."),
)
phone_validator = RegexValidator(
    r"^[0-9+\-() ]{3,30}$", _("Enter a valid phone number (digits, +, -, spaces).")
)


class Department(models.Model):
    """A unit of the utility: the hotline centre or a department that handles orders."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        help_text=_("Short stable identifier, e.g. hotline, repair."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["sort_order", "name"]
        default_permissions = ()
        permissions = [("manage_departments", _("Manage departments"))]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list[Department]:
        chain: list[Department] = []
        node = self.parent
        while node is not None and node not in chain:
            chain.append(node)
            node = node.parent
        return chain


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, agent_id: str, password: str | None = None, **extra: Any) -> User:
        if not agent_id:
            raise ValueError("agent_id is required")
        user = self.model(agent_id=agent_id, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """Logins find the 工号 whatever its case (it is unique without regard to case)."""
        return self.get(agent_id__iexact=username)

    def create_superuser(self, agent_id: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(agent_id, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member. The 工号 (agent ID) is the login name and the agent ID on the phone queue."""

    agent_id = models.CharField(
        _("agent ID"),
        max_length=20,
        unique=True,
        validators=[agent_id_validator],
        error_messages={"unique": _("A staff member with this agent ID already exists.")},
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("Django admin access"),
        default=False,
        help_text=_("Lets IT staff open the low-level Django admin."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    voice_reminders = models.BooleanField(
        _("voice reminders"),
        default=True,
        help_text=_("Speak a short reminder when a work order needs this person's attention."),
    )
    version = models.PositiveIntegerField(default=1)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "agent_id"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["agent_id"]
        default_permissions = ()
        permissions = [("manage_staff", _("Manage staff"))]
        constraints = [
            # 工号 are compared without regard to case: "ab01" and "AB01" are one person.
            models.UniqueConstraint(Lower("agent_id"), name="user_agent_id_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.name}"

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class RoleManager(models.Manager["Role"]):
    pass


class Role(Group):
    """A role is a Django group with a description; permissions are granted to roles."""

    code = models.SlugField(
        _("code"),
        max_length=50,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Stable identifier of a seeded role."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    version = models.PositiveIntegerField(default=1)

    objects: ClassVar[RoleManager] = RoleManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["sort_order", "name"]
        default_permissions = ()
        permissions = [("manage_roles", _("Manage roles and permissions"))]

    def __str__(self) -> str:
        return self.name
