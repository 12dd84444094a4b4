"""{% screen_of vm as s %}: what a VM's thumbnail partial (consoles/_screen.html) shows the
person the page is for. Any page can include the partial (the VM's Overview tab, the VM list's
cards) without its view knowing about screens: the partial asks here, and only Redis is read."""

from django import template

from apps.consoles.screens import present

register = template.Library()


@register.simple_tag(takes_context=True)
def screen_of(context, vm):
    user = context.get("user") or context["request"].user
    return present(user, vm)
