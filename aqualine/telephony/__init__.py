"""The telephony core of the switch: pure Python, never imports Django."""
