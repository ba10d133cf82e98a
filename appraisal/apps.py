"""App configuration for appraisal."""

from django.apps import AppConfig


class AppraisalConfig(AppConfig):
    """Appraisal of pasted items against a station's order book."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "appraisal"
    verbose_name = "Appraisals"

    def ready(self) -> None:
        """Let the appraisal endpoint take a paste's body (see ``appraisal.limits``)."""
        from appraisal.limits import MAX_BODY_BYTES, PATH
        from evesite.middleware import body_limit_register

        body_limit_register(path=PATH, max_bytes=MAX_BODY_BYTES)
