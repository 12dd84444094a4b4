from asgiref.sync import async_to_sync
from channels.generic.websocket import WebsocketConsumer

from . import realtime

# Checks that may refuse a socket after login, registered by the apps that own them (accounts'
# second-factor enrolment), so core names no app above it. Each returns a close code or None.
_connect_checks = []


def register_connect_check(check):
    _connect_checks.append(check)
    return check


def connect_refusal(user):
    """The close code for a signed-in user whom a registered check refuses, or None."""
    for check in _connect_checks:
        code = check(user)
        if code is not None:
            return code
    return None


class LiveConsumer(WebsocketConsumer):
    """One socket per browser tab, authenticated by the Django session.

    It joins the groups the user may see at connect time; every event is rendered for this
    user (or dropped) by the kind's renderer, which checks authorization again, so a grant
    revoked mid-session stops the flow too.
    """

    def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accepted, then closed with a reason: a refused handshake reads as a network fault to
            # the browser, which would retry for ever instead of saying the session is over.
            self.accept()
            self.close(code=realtime.ENDED, reason="Your session has ended; sign in again.")
            return
        code = connect_refusal(user)
        if code is not None:
            self.close(code=code)
            return
        self.groups_joined = [*realtime.groups_for(user), realtime.user_group(user.pk)]
        for group in self.groups_joined:
            async_to_sync(self.channel_layer.group_add)(group, self.channel_name)
        self.accept()

    def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            async_to_sync(self.channel_layer.group_discard)(group, self.channel_name)

    def receive(self, text_data=None, bytes_data=None):
        # The browser only listens; anything it sends is ignored.
        return

    def live_close(self, event):
        """Sent by realtime.close_sockets_on_commit: the user's rights or session changed."""
        self.close(code=event.get("code") or realtime.RECONNECT, reason=event.get("reason", "")[:120])

    def live_event(self, event):
        for html in realtime.render_event(self.scope["user"], event):
            self.send(text_data=html)
