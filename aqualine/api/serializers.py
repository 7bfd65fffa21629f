"""Helpers for the API's serializers."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from rest_framework import serializers

from aqualine.api.exceptions import form_errors


class FormSerializer(serializers.Serializer):
    """A request body validated by the form of the matching page, so that the API and the page
    apply the same rules. The declared fields type-check the JSON and describe it in the
    schema; then `form_class` decides, and `validated_data` is the form's `cleaned_data`."""

    form_class: ClassVar[type[forms.Form]]

    def form_data(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        form = self.form_class(data=self.form_data(attrs))
        if not form.is_valid():
            raise serializers.ValidationError(form_errors(form))
        return form.cleaned_data


class UserRefSerializer(serializers.Serializer):
    """A staff member as others see them: id, 工号 and name."""

    id = serializers.IntegerField()
    agent_id = serializers.CharField()
    name = serializers.CharField()
