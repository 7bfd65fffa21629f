"""Permission names of the wallboard, as used by code (roles are data; code checks these)."""

from enum import StrEnum


class WallboardPerm(StrEnum):
    # Open /wallboard/ and receive its live figures.
    VIEW = "wallboard.view_wallboard"
    # Opening the wallboard keeps this account signed in for days (a TV that runs unattended).
    KIOSK_SESSION = "wallboard.kiosk_session"
