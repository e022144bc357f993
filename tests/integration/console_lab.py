"""What the console's tests and tools/console-screenshot.py show: hvnetd with a NIC (a veth) and
a VLAN on it, a private network and VMs on it whose VIFs are TAPs in namespaces of their own; and
a headless chromium driven through chromedriver."""
from conftest import ManagedHost

MACS = ("00:16:3e:c0:00:01", "00:16:3e:c0:00:02", "00:16:3e:c0:00:03")


def console_demo(lab, vms=2):
    """Returns (host, the private network's uuid, [(vm, vif, namespace, tap)] of each VM)."""
    host = ManagedHost(lab)
    pif, dev = host.pif_on_veth(lab, "uplink")
    host.ok("PIF.plug", pif)
    vlan_net = host.xe("network-create", "name-label=storage-vlan").stdout.strip()
    host.xe("vlan-create", f"pif-uuid={host.ok('PIF.get_uuid', pif)}", "vlan=41",
            f"network-uuid={vlan_net}")
    net = host.xe("network-create", "name-label=tenants").stdout.strip()
    made = [host.vm_on(net, f"c{i}", f"10.93.0.{i + 1}/24", mac=MACS[i], name=f"vm{i + 1}")
            for i in range(vms)]
    return host, net, made


def browser(profile_dir, width=1500, height=1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--window-size={width},{height}", f"--user-data-dir={profile_dir}"):
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def login(d, url, password=ManagedHost.PASSWORD, user="root"):
    from selenium.webdriver.common.by import By
    d.get(url)
    u = d.find_element(By.ID, "login-user")
    u.clear()
    u.send_keys(user)
    pw = d.find_element(By.ID, "login-password")
    pw.clear()
    pw.send_keys(password)
    d.find_element(By.ID, "login-button").click()


def wait_drawn(d, timeout=10):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(d, timeout).until(lambda d: d.execute_script(
        "return window.hvnetConsole && window.hvnetConsole.draws > 0"))


def text_of(d, selector):
    """The text of the first element `selector` finds, read in one script: the console redraws
    its tables every few seconds, so an element found first may be gone when read."""
    return d.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector)


def click(d, selector, timeout=5):
    """Clicks what `selector` finds, finding it again if a redraw replaced it meanwhile."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(d):
        try:
            d.find_element(By.CSS_SELECTOR, selector).click()
            return True
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    WebDriverWait(d, timeout, poll_frequency=0.05).until(attempt)
