"""dunning's engine: models, plugin contracts, config, ledger, policy, runner and CLI.

Plugins import the ``hookimpl`` marker from here::

    from dunning.core import hookimpl

    @hookimpl
    def dunning_register_sources(register):
        register(MySource)
"""

import pluggy

PROJECT_NAME = "dunning"
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["PROJECT_NAME", "hookimpl"]
