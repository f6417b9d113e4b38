"""The floor: a bare Flask JSON endpoint served the same way as the app, in the same run.

It answers any path, so the runner can also drive it with a hot path's own request file (the
same URLs, headers and tokens, through the same wrk script): that floor differs from the hot
path by the app's work alone, not by what the load generator and the server do per request.
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/floor")
@app.get("/<path:_anything>")
def floor(_anything=None):
    return jsonify(status="ok", flags=[])
