"""Tools for tests of the telephony core: audio checks, an RTP test peer, waiting helpers.

Not imported by the switch itself; integration tests (SIP, browser) use them too.
"""
