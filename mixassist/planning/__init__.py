"""Planning: what to do to the stems, as a document (:class:`~.plan.Plan`).

:func:`~.predict.predict_plan` turns an :class:`~mixassist.analysis.result.Analysis` into the mix
plan (gains, pans, EQ, compression, sends, master chain for a loudness target);
:func:`~.arrangement.plan_arrangement` adds the arrangement (version, edits, level rides). The
plan names pedalboard plugins and their parameters (:mod:`.plugins`); nothing here renders audio.
"""
