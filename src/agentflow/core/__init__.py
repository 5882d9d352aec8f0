"""The core: everything an App is, for every dialect, and the seam dialects plug into.

Read in the order of the data flow::

    events        Event, the base of every event; the common ``kind`` vocabulary
    dialect       Dialect: what a wire's events mean (pure); Call, Pause
    channel       Source and Channel: how a session's events arrive and answers leave
    routes        Router, @on(pattern, **filters); inject: calling handlers by name
    chain         the middleware onion; context: the Context handlers receive
    app           BaseApp: dispatch, error and question handlers, run
    path          the one path every event takes (handlers + actions router)
    actions/      the actions router: tools, policies, questions, one batch of replies
    run, tally    the run loop and the RunResult it returns (results)
    observe       the hooks observers (telemetry) wrap runs, tools, policies, posts with;
                  observers: the app's observers, as the core calls them
    checkpoint/   what survives a restart: dispatched events, answered calls
    answers, verdicts, questions, config, exceptions, types

The core imports no dialect and no HTTP client; dialects import the core.
"""
