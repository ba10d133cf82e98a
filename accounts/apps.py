"""App configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Register the system checks and index every login's session per user."""
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        import accounts.checks  # noqa: F401 (registers the checks)
        from accounts import user_sessions

        user_logged_in.connect(user_sessions.on_user_logged_in, dispatch_uid="accounts.user_sessions.login")
        user_logged_out.connect(user_sessions.on_user_logged_out, dispatch_uid="accounts.user_sessions.logout")
