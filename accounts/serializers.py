"""DRF serializers of accounts (input validation and output shapes only)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import RouteMode

PORTRAIT_SIZES = (32, 64, 128, 256, 512)


class SystemRefSerializer(serializers.Serializer):
    """A solar system by id and name."""

    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)


class MeSerializer(serializers.Serializer):
    """The logged-in user and their EVE character."""

    user_id = serializers.IntegerField()
    character_id = serializers.IntegerField(allow_null=True)
    character_name = serializers.CharField(allow_null=True)
    portrait_url = serializers.CharField(allow_null=True, help_text="Through the image cache, 128 px.")
    portraits = serializers.DictField(child=serializers.CharField(), help_text="Portrait URL by size.")
    scopes = serializers.ListField(child=serializers.CharField())
    sso_token = serializers.BooleanField(help_text="Whether a usable SSO token is stored.")


class UserSettingsInputSerializer(serializers.Serializer):
    """Settings sent with PUT (all fields) or PATCH (some)."""

    sales_tax = serializers.FloatField(min_value=0.0, max_value=100.0, help_text="Percent.")
    broker_fee = serializers.FloatField(min_value=0.0, max_value=100.0, help_text="Percent.")
    home_station_id = serializers.IntegerField(allow_null=True, min_value=1, max_value=2**63 - 1)
    default_route_mode = serializers.ChoiceField(choices=RouteMode.choices)
    avoid = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=500, help_text="Solar system ids or names."
    )


class UserSettingsOutputSerializer(serializers.Serializer):
    """A user's settings (site defaults when they saved none)."""

    sales_tax = serializers.FloatField()
    broker_fee = serializers.FloatField()
    home_station_id = serializers.IntegerField(allow_null=True)
    default_route_mode = serializers.CharField()
    avoid = SystemRefSerializer(many=True)
    saved = serializers.BooleanField(help_text="False while these are the site defaults.")


class SavedRouteInputSerializer(serializers.Serializer):
    """A route to save."""

    name = serializers.CharField(max_length=100)
    origin = serializers.CharField(max_length=100, help_text="Solar system id or name.")
    destination = serializers.CharField(max_length=100, help_text="Solar system id or name.")
    mode = serializers.ChoiceField(choices=RouteMode.choices, default=RouteMode.SHORTEST)
    avoid = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=500, default=list, help_text="Ids or names."
    )


class SavedRouteOutputSerializer(serializers.Serializer):
    """A saved route."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    origin = SystemRefSerializer()
    destination = SystemRefSerializer()
    mode = serializers.CharField()
    avoid = SystemRefSerializer(many=True)
    created = serializers.DateTimeField()


class SavedRoutePageSerializer(serializers.Serializer):
    """A page of saved routes (limit/offset pagination)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SavedRouteOutputSerializer(many=True)


class LoginInfoSerializer(serializers.Serializer):
    """How to start the login."""

    login_url = serializers.CharField(help_text="POST here (form, with the CSRF token) to go to EVE SSO.")
    method = serializers.CharField()
    csrf_token = serializers.CharField(help_text="Send as the csrfmiddlewaretoken field or X-CSRFToken header.")
    logged_in = serializers.BooleanField()


class LogoutOutputSerializer(serializers.Serializer):
    """The outcome of a logout."""

    logged_out = serializers.BooleanField()
    sso_revoked = serializers.BooleanField(
        help_text=(
            "Whether the refresh token's revocation at EVE SSO was queued (it runs in the background, best "
            "effort, and is not confirmed here); false when there was no stored token to revoke."
        )
    )


class RoutesDeletedSerializer(serializers.Serializer):
    """How many saved routes were deleted."""

    deleted = serializers.IntegerField()
