"""The daemon's room: lifecycle, the pipeline of steps, the demo, systemd and metrics, status and checks.

Nothing below imports it; only ``cli/`` (and tests) do. The face is empty on
purpose: importing ``responder.service.status`` must not pull in the scheduler.
"""
