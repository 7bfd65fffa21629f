"""The call-centre configuration pages: ACD queues, IVR flows (per called number) and voice
prompts. Reading needs `view_switch`, changing needs `manage_telephony`.

The switch reads queues and flows from the database again every 30 s (`centre.CONFIG_SECONDS`)
and looks up prompt files in ``settings.PROMPTS_DIR`` before the shipped ones, so a change here
reaches callers without a restart.
"""
