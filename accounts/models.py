"""Database models of accounts: EVE characters, their SSO tokens, settings and saved routes."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class RouteMode(models.TextChoices):
    """Route modes understood by the routing engine."""

    SHORTEST = "shortest", "Shortest"
    SECURE = "secure", "Secure (high-sec)"
    INSECURE = "insecure", "Insecure (low/null-sec)"


class EveCharacter(models.Model):
    """The EVE character a site user logs in with (one per user)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eve_character")
    character_id = models.BigIntegerField(unique=True)
    name = models.CharField(max_length=100)
    owner_hash = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        """Return the character's name and id."""
        return f"{self.name} ({self.character_id})"


class EveToken(models.Model):
    """SSO tokens of a character, encrypted at rest; deleted (and revoked) on logout."""

    character = models.OneToOneField(EveCharacter, on_delete=models.CASCADE, related_name="token")
    scopes = models.JSONField(default=list)
    access_token_encrypted = models.TextField()
    access_token_expires_at = models.DateTimeField()
    refresh_token_encrypted = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        """Return a label that never shows a token."""
        return f"token of character {self.character_id}"


class UserSettings(models.Model):
    """A user's trading and routing defaults."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="eve_settings")
    sales_tax = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(100.0)])
    broker_fee = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(100.0)])
    home_station_id = models.BigIntegerField(null=True, blank=True)
    default_route_mode = models.CharField(max_length=16, choices=RouteMode.choices, default=RouteMode.SHORTEST)
    avoid = models.JSONField(default=list, blank=True, help_text="Solar system ids routes never enter.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "user settings"

    def __str__(self) -> str:
        """Return whose settings these are."""
        return f"settings of user {self.user_id}"


class SavedRoute(models.Model):
    """A route a user saved, by solar system ids."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_routes")
    name = models.CharField(max_length=100)
    origin_id = models.IntegerField()
    destination_id = models.IntegerField()
    mode = models.CharField(max_length=16, choices=RouteMode.choices, default=RouteMode.SHORTEST)
    avoid = models.JSONField(default=list, blank=True, help_text="Solar system ids the route never enters.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="unique_saved_route_name_per_user")]

    def __str__(self) -> str:
        """Return the route's name."""
        return self.name
