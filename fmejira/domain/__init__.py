"""The app's rules, free of HTTP and storage: what a flag's state means and how Jira shows it."""
