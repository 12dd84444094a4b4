"""render_page answers one URL with a full page or a partial by the HX-Request header, so the
answer says it varies by that header: otherwise the browser's Back after a live re-read (an htmx
GET of the same URL) can show the cached bare partial instead of the page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_full_page_and_partial_both_vary_by_the_htmx_header(client, admin):
    client.force_login(admin)
    url = reverse("compute:vm_list")

    page = client.get(url)
    partial = client.get(url, headers={"HX-Request": "true"})

    assert page.status_code == partial.status_code == 200
    assert "<html" in page.content.decode() and "<html" not in partial.content.decode()
    for response in (page, partial):
        vary = [part.strip().lower() for part in response.get("Vary", "").split(",")]
        assert "hx-request" in vary, response.get("Vary")
