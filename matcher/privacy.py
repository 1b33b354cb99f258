"""Visibility rules: who may see which profile and which fields."""

from __future__ import annotations

from typing import Any

from matcher.models import CONTACT_FIELDS, Profile


def visible_to(profile: Profile, logged_in: bool) -> bool:
    """``hidden`` profiles are never shown; ``internal`` ones only to logged-in users."""
    if profile.visibility == "hidden":
        return False
    return logged_in or profile.visibility == "public"


def visible_visibilities(logged_in: bool) -> tuple[str, ...]:
    """The visibility values a viewer may see."""
    return ("public", "internal") if logged_in else ("public",)


def public_record(profile: Profile, logged_in: bool) -> dict[str, Any]:
    """The profile as a record a viewer may see: contact fields only for logged-in users.

    Extra fields of foreign systems are never shown outside the store.
    """
    record = {k: v for k, v in profile.to_record().items() if k not in profile.extra}
    if not logged_in:
        for name in CONTACT_FIELDS:
            record.pop(name, None)
    return record
