"""The parts of Airflow 3's React UI the connection test uses: login, the connection list and its form."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Locator, Page, Response, Route, expect

NOTIFICATIONS = "Notifications, bottom-end (alt+T)"


class ConnectionsPage:
    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url

    def login(self, username: str, password: str) -> None:
        self.page.goto(f"{self.url}/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Welcome")).to_be_visible()

    def open(self) -> None:
        """Admin → Connections, through the navigation menu."""
        self.page.get_by_role("button", name="Admin").click()
        self.page.get_by_role("menuitem", name="Connections").click()
        expect(self.page.get_by_role("button", name="Add Connection")).to_be_visible()

    # --- the add/edit dialog ----------------------------------------------------------------------------

    @property
    def dialog(self) -> Locator:
        return self.page.get_by_role("dialog")

    def start_adding(self, conn_id: str, conn_type: str) -> None:
        self.page.get_by_role("button", name="Add Connection").click()
        self.dialog.get_by_label("Connection ID").fill(conn_id)
        self.dialog.get_by_role("combobox", name="Connection Type").fill(conn_type)
        self.page.get_by_role("option", name=conn_type, exact=True).click()

    def section(self, name: str) -> None:
        """Expand one section of the form ("Standard Fields", "Extra Fields"); the others collapse."""
        button = self.dialog.get_by_role("button", name=name, exact=True)
        if button.get_attribute("aria-expanded") != "true":
            button.click()

    def field(self, label: str) -> Locator:
        # Extra fields' inputs carry no accessible name: find them through their row's label text.
        return self.dialog.get_by_role("group").filter(has=self.page.get_by_text(label, exact=True))

    def choose(self, label: str, option: str) -> None:
        self.dialog.get_by_role("combobox", name=label).click()
        self.page.get_by_role("option", name=option, exact=True).click()

    def save(self) -> Response:
        def is_save(response: Response) -> bool:
            return "/api/v2/connections" in response.url and response.request.method in ("POST", "PATCH")

        with self.page.expect_response(is_save) as saved:
            self.dialog.get_by_role("button", name="Save").click()
        expect(self.dialog).to_be_hidden()
        return saved.value

    # --- the connection list ----------------------------------------------------------------------------

    def row(self, conn_id: str) -> Locator:
        return self.page.get_by_role("row").filter(
            has=self.page.get_by_role("cell", name=conn_id, exact=True)
        )

    def edit(self, conn_id: str) -> None:
        self.row(conn_id).get_by_role("button", name="Edit Connection").click()
        expect(self.dialog.get_by_role("heading", name="Edit Connection")).to_be_visible()

    def test(self, conn_id: str) -> dict[str, Any]:
        """Press the row's Test button; returns the API's verdict after checking the UI shows it."""
        with self.page.expect_response("**/api/v2/connections/test") as answer:
            self.row(conn_id).get_by_role("button", name="Test Connection").click()
        assert answer.value.ok, f"{answer.value.status}: {answer.value.text()}"
        verdict: dict[str, Any] = answer.value.json()
        title = "Test Connection Successful" if verdict["status"] else "Test Connection Failed"
        toast = self.page.get_by_role("region", name=NOTIFICATIONS).get_by_role("status", name=title)
        expect(toast.filter(has_text=verdict["message"]).first).to_be_visible()
        return verdict

    def send_portless_connections_without_port(self) -> None:
        """Work around apache/airflow#73298 (Airflow 3.3.2): the list's Test button sends ``port: 0`` for
        a connection without a port (``Number(null)``), and the API then refuses with 400 "The host or
        port to test differs from the stored connection". Upstream fixed it in the API by reading 0 as no
        port; this does the same to the request, and nothing else."""

        def drop_zero_port(route: Route) -> None:
            body = json.loads(route.request.post_data or "{}")
            if body.get("port") == 0:
                body["port"] = None
            route.continue_(post_data=json.dumps(body))

        self.page.route("**/api/v2/connections/test", drop_zero_port)
