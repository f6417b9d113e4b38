"""Security headers for every page: framed only by Atlassian, no sniffing, no caching of tokens."""

from fmejira.pages import bp

ATLASSIAN_FRAME_ANCESTORS = "https://*.atlassian.net https://*.jira.com https://*.jira-dev.com"
CONNECT_JS = "https://connect-cdn.atl-paas.net"


def content_security_policy(form_action: str = "'self'") -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {CONNECT_JS}",
            # all.js adds a <style> element (its resize sensor); the app's own styles are files.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            f"form-action {form_action}",
            f"frame-ancestors {ATLASSIAN_FRAME_ANCESTORS}",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
# form-action also governs where a submitted form is redirected: the Releases site form ends in
# the person's Jira site (a custom domain, too), always one the app looked up itself.
FORM_TO_JIRA_POLICY = content_security_policy(form_action="'self' https:")


@bp.after_request
def security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
