from django.contrib.auth import get_user_model


def test_it_shows_the_login_page(client, db):
    response = client.get("/accounts/login/?next=/console/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'name="username"' in content
    assert 'name="next" value="/console/"' in content
    assert "csrfmiddlewaretoken" in content


def test_it_logs_staff_in_to_the_dashboard(client, staff):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123", "next": "/console/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_it_keeps_the_username_after_a_wrong_password(client, staff):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct username and password" in content
    assert 'value="alice"' in content


def test_it_logs_out_with_a_post(staff_client):
    content = staff_client.get("/console/").content.decode()
    assert 'method="post" action="/accounts/logout/"' in content
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert staff_client.get("/console/").status_code == 302


def test_it_still_forbids_a_logged_in_user_who_is_not_staff(client, db):
    get_user_model().objects.create_user("dave", password="pw-dave-123")
    client.post("/accounts/login/", {"username": "dave", "password": "pw-dave-123"})
    assert client.get("/console/").status_code == 403
