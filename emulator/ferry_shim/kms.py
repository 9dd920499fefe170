"""AWS managed KMS keys report KeyManager "AWS".

moto creates the keys behind the reserved aliases (alias/aws/ebs, alias/aws/s3,
...) on first use, by EBS encryption or by naming the alias, as ordinary
customer keys (KeyManager "CUSTOMER"). In AWS these are AWS managed keys
("AWS managed keys", AWS KMS Developer Guide: aliases alias/aws/<service>,
DescribeKey KeyManager AWS), and only AWS can create those aliases: moto's own
CreateAlias refuses the reserved names, so a key that carries one is AWS managed.
"""

from __future__ import annotations

from typing import Any

from moto.kms.models import KmsBackend
from moto.kms.utils import RESERVED_ALIASES


def apply() -> None:
    original = KmsBackend.create_alias

    def create_alias(self: KmsBackend, target_key_id: str, alias_name: str) -> Any:
        alias = original(self, target_key_id, alias_name)
        if alias_name in RESERVED_ALIASES:
            self.keys[self.get_key_id(target_key_id)].key_manager = "AWS"
        return alias

    KmsBackend.create_alias = create_alias  # type: ignore[method-assign]
