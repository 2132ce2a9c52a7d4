"""The web console (docs/console.md): the face-auth reader, the live journal, the controls and the
harness reports in a browser, on the admin listener, behind the admin token. Its only way to change
state is the admin API's own routes."""

from mockgateway.console.app import Console

__all__ = ["Console"]
