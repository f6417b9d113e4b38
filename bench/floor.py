"""The floor: a bare Flask JSON endpoint served the same way as the app, in the same run."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/floor")
def floor():
    return jsonify(status="ok", flags=[])
