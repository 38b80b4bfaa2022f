"""Message safety filters: the contract, the pipeline and the built-in filters.

Nothing is imported here on purpose (the rule tables take a moment to compile); import the
module you need:

- ``chatserver.safety.base``: ``Action``, ``FilterInput``, ``Verdict``, ``Filter``.
- ``chatserver.safety.pipeline``: ``build_pipeline``, ``Pipeline``, ``PipelineResult``,
  ``FilterSettings``, ``UnknownFilterError``, ``FilterLoadError``.
- ``chatserver.safety.resources``: ``resources_for(locale)``, ``Resource``.
- ``chatserver.safety.classify``: ``run_classify(stdin, stdout, pipeline)``.
- Built-in filters, by entry-point name: ``crisis`` (``crisis.CrisisFilter``),
  ``trauma_dump`` (``trauma.TraumaDumpFilter``), ``pii`` (``pii.PiiFilter``).

Design notes and measurements: ``docs/safety.md``.
"""
