"""Recording: neutral events in, complete Turn and Call records out.

The recorder (``CallRecorder``) assembles turns; beside it, the latency breakdown, the STT
usage meter and the call summary. Pure logic: no I/O, no clock of its own, no import of
anything later in the flow (pricing, sinks, export, store, report).
"""
