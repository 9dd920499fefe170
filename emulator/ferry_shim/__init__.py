"""ferry's patch layer ("shim") on moto 5.2.5, loaded by emulator/ferry_moto_server.py.

moto keeps every account's EC2 state apart, so AMIs and snapshots shared with
another account stay invisible there, and its copies ignore encryption; its
load balancers lack some of what AWS documents. Each patch below adds one
behaviour that AWS documents, nothing more; the README's
"What we add to moto" section lists them with the documentation they follow.

    images.py     AMIs shared across accounts; CopyImage (cross-account,
                  Encrypted/KmsKeyId); encryption in block device mappings;
                  refusal to share AMIs backed by the AWS managed EBS key
    snapshots.py  snapshots shared across accounts; CreateVolume/CopySnapshot
                  from them; CopySnapshot Encrypted/KmsKeyId; snapshot keys;
                  refusal to share snapshots under the AWS managed EBS key
    kms.py        AWS managed keys (alias/aws/...) report KeyManager AWS
    elb.py        load balancers, listeners, target groups and classic load
                  balancers as AWS documents them (ARNs, Elastic IPs,
                  idempotent creation, deletion protection, certificates,
                  deregistration on termination, classic policies)
    s3.py         S3 as AWS documents it: access across accounts (HeadBucket,
                  GetBucketLocation, copy sources) by the bucket policy, tags
                  kept by CopyObject, SSE-KMS ETags, the 2023 bucket defaults
                  (SSE-S3, Block Public Access, BucketOwnerEnforced), Object
                  Lock on buckets with objects
    common.py     the share registry, the grantee's view, key helpers
    speed.py      per-request costs of moto's server cut without changing any
                  answer (timestamps parsed in C, dispatch remembered per host)

`apply()` installs every patch once; it must run before moto's server starts.
"""

from __future__ import annotations

MOTO_VERSION = "5.2.5"

_applied = False


def apply() -> None:
    """Install all patches (idempotent). Fails on a moto version not checked."""
    global _applied
    if _applied:
        return
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"ferry_shim was written against moto {MOTO_VERSION}, found {moto.__version__}: "
            "re-check every patch in emulator/ferry_shim/ before changing the pin"
        )
    from . import elb, images, kms, s3, snapshots, speed

    speed.apply()
    kms.apply()
    elb.apply()
    s3.apply()
    snapshots.apply()
    images.apply()
    _applied = True
