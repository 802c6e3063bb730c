"""The prefill parameters of the "new" pages are a convenience: any value that is not a plain id is ignored, never a
server error (a Unicode digit such as ¹ passes str.isdigit() but not int(); a huge id overflows the column)."""

import pytest
from django.urls import reverse


@pytest.mark.parametrize("value", ["¹", "٣", "99999999999999999999999", "-1", "abc", ""])
@pytest.mark.parametrize(
    ("page", "param"), [("pairings:pairing_create", "parent"), ("projects:project_create", "pairing")]
)
def test_a_prefill_that_is_not_an_id_is_ignored(client, world, pw, page, param, value):
    client.force_login(world.coordinator)
    response = client.get(reverse(page), {param: value})
    assert response.status_code == 200
