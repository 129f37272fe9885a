"""Broker addresses: ``mqtt://user:pass@host:1883`` or ``mqtts://host:8883`` (TLS)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiomqtt


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """
        >>> address = BrokerAddress.parse("mqtts://bridge:s%40cret@broker.example:8883")
        >>> address.host, address.port, address.tls, address.username, address.password
        ('broker.example', 8883, True, 'bridge', 's@cret')
        >>> BrokerAddress.parse("mqtt://127.0.0.1").port
        1883
        """
        parts = urlsplit(url)
        if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
            raise ValueError(f"not an mqtt:// or mqtts:// URL: {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def client(
        self,
        *,
        identifier: str,
        keepalive_s: int = 10,
        ca_file: Path | None = None,
        protocol: aiomqtt.ProtocolVersion = aiomqtt.ProtocolVersion.V311,
    ) -> aiomqtt.Client:
        context = None
        if self.tls:
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        return aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=identifier,
            keepalive=keepalive_s,
            tls_context=context,
            protocol=protocol,
            timeout=10,
        )
