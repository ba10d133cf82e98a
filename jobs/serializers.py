"""DRF serializers of jobs."""

from __future__ import annotations

from rest_framework import serializers

from jobs.models import JobState


class JobProgressSerializer(serializers.Serializer):
    """How far a job got."""

    done = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)
    unit = serializers.CharField(help_text="What is counted: pages, regions.")


class JobSerializer(serializers.Serializer):
    """A background job."""

    id = serializers.UUIDField()
    kind = serializers.CharField(help_text="e.g. market.refresh_region, market.snapshot_regions.")
    params = serializers.DictField()
    state = serializers.ChoiceField(choices=JobState.choices)
    progress = JobProgressSerializer()
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_null=True)
