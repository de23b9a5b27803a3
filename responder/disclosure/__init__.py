"""Working-day obligations (issue 19): disclosure requests (依申请公开) and inquiry answers.

``policy`` holds the settings (imported by the engine's policy loader, so this
package's ``__init__`` imports nothing); ``service`` the operations; ``handlers``
what the engine asks at each ladder step; the calendar is ``responder.workdays``.
"""
