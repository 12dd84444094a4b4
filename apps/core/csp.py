"""Exceptions to the site's Content-Security-Policy (kvmweb/settings.py), one per reason.

xterm.js styles its terminal with <style> elements it writes at run time (cell sizes, colours),
which style-src 'self' refuses: pages that may show a serial console (the VM page, whose Serial tab
loads into it, and the serial window) allow inline style elements — still no inline script."""

from csp.decorators import csp_update

allows_terminal = csp_update({"style-src-elem": ["'self'", "'unsafe-inline'"]})
