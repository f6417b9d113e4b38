"""Security headers for every page: framed only by Atlassian, no sniffing, no caching of tokens."""

from fmejira.pages import bp

ATLASSIAN_FRAME_ANCESTORS = "https://*.atlassian.net https://*.jira.com https://*.jira-dev.com"
CONNECT_JS = "https://connect-cdn.atl-paas.net"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {CONNECT_JS}",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {ATLASSIAN_FRAME_ANCESTORS}",
    ]
)


@bp.after_request
def security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
