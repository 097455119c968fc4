"""CMS workstations: the province CA trusted, Firefox set up for the CMS, the CMS reachable with
certificate verification on (roles province_trust, cms_browser; in the lab roles/cms_standin)."""

from __future__ import annotations

import shlex

from firefox_probe import firefox_state
from unitctl.compliance import check
from workstation_facts import FIX, WORKSTATIONS, package_installed, require_component, root_output

CMS_POLICY = "inventory/group_vars/all/cms.yml"
TRUST_POLICY = "inventory/group_vars/all/trust.yml"
POLICIES_FILE = "/etc/firefox/policies/policies.json"   # where Firefox reads them (roles/cms_browser)
TRUST_DIR = "/usr/local/share/ca-certificates/unitctl"


@check(id="WS-007", title_en="The province CA is in the system trust store",
       title_fa="گواهی مرجع صدور استان در مخزن اعتماد سامانه است", severity="critical", applies_to=WORKSTATIONS,
       policy=TRUST_POLICY, fix=FIX)
def test_province_ca_trusted(host, policy):
    files = host.run(f"ls {TRUST_DIR}/*.crt 2>/dev/null").stdout.split()
    expected = [entry["name"] for entry in policy.get("province_ca_certificates") or []]
    assert sorted(f.rsplit("/", 1)[1][:-4] for f in files) == sorted(expected), \
        f"province CA files {files}, policy names {expected}"
    bundle = host.file("/etc/ssl/certs/ca-certificates.crt").content_string
    for path in files:
        body = "".join(line for line in host.file(path).content_string.splitlines() if not line.startswith("-----"))
        assert body and body in bundle.replace("\n", ""), f"{path} is not in the system bundle (update-ca-certificates)"


def firefox(host, url: str) -> dict:
    """Firefox's own view on `host` (firefox_probe), asked once per host and run."""
    key = (host.backend.get_hostname(), url)
    if key not in _FIREFOX:
        _FIREFOX[key] = firefox_state(host, url)
    state = _FIREFOX[key]
    assert "error" not in state, f"Firefox could not be asked: {state['error']}"
    if state["policies"] != 1:
        where = "present" if host.file(POLICIES_FILE).exists else "missing"
        raise AssertionError(f"Firefox's policy engine is not active (status {state['policies']}; "
                             f"{POLICIES_FILE} is {where})")
    return state


_FIREFOX: dict = {}


@check(id="WS-008", title_en="Firefox opens the CMS, with updates off", title_fa="فایرفاکس سامانهٔ مدیریت پرونده را باز می‌کند و به‌روزرسانی خودکارش خاموش است",
       severity="high", applies_to=WORKSTATIONS, policy=CMS_POLICY, fix=FIX)
def test_firefox_points_at_the_cms(host, inventory_host, policy, request):
    """In a fresh profile Firefox has the CMS as its locked home page, may not update itself, and
    opens the CMS over HTTPS without a certificate error."""
    require_component(request.config, inventory_host, policy, "cms_browser")
    assert package_installed(host, "firefox-esr"), "firefox-esr is not installed"
    url = policy["province_cms_url"]
    state = firefox(host, url)
    assert state["homepage"].rstrip("/") == url.rstrip("/") and state["homepage_locked"], \
        f"Firefox's home page is {state['homepage']!r} (locked: {state['homepage_locked']}), not {url} locked"
    assert state["app_update_allowed"] is False, "Firefox may update itself (the DisableAppUpdate policy is not in force)"
    assert url in state["bookmarks"], f"the CMS is not among Firefox's managed bookmarks ({state['bookmarks']})"
    assert not state["navigate_error"], f"Firefox does not open {url}: {state['navigate_error']}"


@check(id="WS-009", title_en="Firefox trusts the province CA and uses the province proxy",
       title_fa="فایرفاکس به مرجع صدور استان اعتماد دارد و از پراکسی استان استفاده می‌کند", severity="high",
       applies_to=WORKSTATIONS, policy=TRUST_POLICY, fix=FIX)
def test_firefox_trust_and_proxy(host, inventory_host, policy, request):
    """The province CA is in Firefox's own certificate store (on Linux Firefox does not read the
    system's), and Firefox uses the province proxy when the province has one."""
    require_component(request.config, inventory_host, policy, "cms_browser")
    state = firefox(host, policy["province_cms_url"])
    for entry in policy.get("province_ca_certificates") or []:
        path = f"{TRUST_DIR}/{entry['name']}.crt"
        fingerprint = host.run(f"openssl x509 -noout -fingerprint -sha256 -in {shlex.quote(path)}").stdout.strip()
        assert "=" in fingerprint, f"{path} is missing or not a certificate"
        assert fingerprint.split("=", 1)[1].upper() in state["trusted"], \
            f"Firefox does not trust {entry['name']} ({fingerprint}) as a CA for TLS servers"
    proxy = policy.get("province_http_proxy") or ""
    if proxy:
        assert state["proxy_type"] == 1 and state["http_proxy"] == proxy, \
            f"Firefox's proxy is {state['http_proxy']} (type {state['proxy_type']}), not {proxy}"
    else:
        assert state["proxy_type"] != 1, f"Firefox uses a proxy ({state['http_proxy']}) though the province has none"


@check(id="WS-010", title_en="A desktop launcher opens the CMS", title_fa="میان‌بر رومیزی سامانهٔ مدیریت پرونده وجود دارد",
       severity="low", applies_to=WORKSTATIONS, policy=CMS_POLICY, fix=FIX)
def test_cms_launcher(host, inventory_host, policy, request):
    require_component(request.config, inventory_host, policy, "cms_browser")
    launcher = host.file("/usr/share/applications/unitctl-cms.desktop")
    assert launcher.exists, "the CMS launcher is missing"
    assert f"Exec=firefox-esr {policy['province_cms_url']}" in launcher.content_string, "the launcher opens something else"


@check(id="WS-011", title_en="The CMS answers over HTTPS with its certificate verified",
       title_fa="سامانهٔ مدیریت پرونده با گواهی معتبر (بررسی‌شده) پاسخ می‌دهد", severity="critical",
       applies_to=WORKSTATIONS, policy=CMS_POLICY, fix=FIX)
def test_cms_reachable_with_verification(host, policy):
    url = policy["province_cms_url"]
    # No -k: curl checks the certificate against the system trust store.
    result = host.run(f"curl --silent --show-error --fail --max-time 15 --output /dev/null "
                      f"--write-out '%{{http_code}} %{{ssl_verify_result}}' {url}")
    assert result.rc == 0, f"curl {url}: exit {result.rc}: {result.stderr.strip()}"
    code, verify = result.stdout.split()
    assert verify == "0", f"certificate verification result {verify}"
    assert code.startswith(("2", "3")), f"HTTP {code}"


@check(id="WS-012", title_en="The province CA key is never on a workstation", title_fa="کلید خصوصی مرجع صدور استان روی ایستگاه کاری نیست",
       severity="high", applies_to=WORKSTATIONS, policy=TRUST_POLICY, fix=FIX)
def test_no_private_keys_in_trust_dir(host):
    keys = root_output(host, f"grep -rl 'PRIVATE KEY' {TRUST_DIR} /etc/firefox /etc/firefox-esr 2>/dev/null || true").split()
    assert not keys, f"private keys found: {keys}"
    assert host.file(TRUST_DIR).is_directory, f"{TRUST_DIR} is missing (the province CA was never installed)"
