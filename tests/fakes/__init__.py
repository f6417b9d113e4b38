"""Local stand-ins for the services the app talks to, each a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


class LocalServer:
    """``wsgi_app`` served on a free port of 127.0.0.1, in a thread, until :meth:`stop`."""

    def __init__(self, wsgi_app, name: str, poll_interval: float = 0.02):
        self._server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.origin = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": poll_interval},  # how long stop() waits for the loop
            name=name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
