"""Working-day obligations: disclosure requests (依申请公开) and inquiry answers.

``policy`` holds the settings and ``vocabulary`` the words of the rules (both
read by the engine, so this package's ``__init__`` imports nothing);
``handlers`` what the engine asks at each ladder step; ``service`` is the face
of the operations (``clocks``, ``requests``, ``sweep``); ``report`` the weekly
figures. The calendar is ``responder.workdays``.
"""
