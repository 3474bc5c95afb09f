"""pytest plugin (entry point ``pytest11``): registers the ``dmf_claim`` marker.

Loaded automatically in any pytest run once dmf-verify is installed; it imports nothing heavy.
"""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "dmf_claim(id, source='', statement=''): turn this test into a claim listed by dmf-verify",
    )
