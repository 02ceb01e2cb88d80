"""Rendering: a :class:`~mixassist.planning.plan.Plan` applied to the stems — edits, plugin chains,
automation, buses, the mix and the loudness stage of the master (:func:`~.render.render`)."""
