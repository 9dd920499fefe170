"""S3 response documents under the root element AWS uses.

moto 5.2.5 serialises some S3 answers from the botocore model, whose output
shapes for these operations carry no XML name; the document then comes out as
``<GetBucketVersioningResponse>`` instead of AWS's documented
``<VersioningConfiguration>``. boto3 ignores the root element, so moto's own
tests pass; the AWS SDK for Rust checks it and refuses the answer. This
renames the root element of those operations to the one the S3 API reference
gives; the content is left as moto wrote it.
"""

from __future__ import annotations

import re
from typing import Any

# Operation -> root element of its response document (S3 API reference).
ROOTS = {
    "GetBucketVersioning": "VersioningConfiguration",
    "GetBucketAccelerateConfiguration": "AccelerateConfiguration",
    "GetBucketAcl": "AccessControlPolicy",
    "GetBucketLogging": "BucketLoggingStatus",
    "GetBucketNotificationConfiguration": "NotificationConfiguration",
    # moto's own name for the same operation.
    "GetBucketNotification": "NotificationConfiguration",
    "GetObjectAcl": "AccessControlPolicy",
    "GetObjectTagging": "Tagging",
    "DeleteObjects": "DeleteResult",
    "ListParts": "ListPartsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "ListMultipartUploads": "ListMultipartUploadsResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjectVersions": "ListVersionsResult",
    "ListObjects": "ListBucketResult",
    "ListObjectsV2": "ListBucketResult",
}


# Operations whose answer is a document even when there is nothing in it
# (AWS: ``<NotificationConfiguration/>``); moto sends an empty body.
ALWAYS_A_DOCUMENT = {"GetBucketNotificationConfiguration", "GetBucketNotification"}

EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'


def rename_root(body: Any, action: str) -> Any:
    """``body`` with a ``<{action}Response>`` root renamed per ROOTS."""
    root = ROOTS.get(action)
    if root is None or not isinstance(body, (str, bytes)):
        return body
    text = body.decode() if isinstance(body, bytes) else body
    if not text.strip() and action in ALWAYS_A_DOCUMENT:
        text = EMPTY.format(root=root)
        return text.encode() if isinstance(body, bytes) else text
    wrong = f"{action}Response"
    if f"<{wrong}" not in text:
        return body
    text = re.sub(rf"<{wrong}(\s|>)", rf"<{root}\1", text, count=1)
    text = text.replace(f"</{wrong}>", f"</{root}>")
    return text.encode() if isinstance(body, bytes) else text


def apply() -> None:
    from moto.s3 import responses as s3_responses

    Response = s3_responses.S3Response
    serialized = Response.serialized

    def renamed(self: Any, action_result: Any) -> Any:
        status, headers, body = serialized(self, action_result)
        try:
            action = self._get_action()
        except Exception:  # noqa: BLE001 - not an S3 operation moto knows
            action = self.data.get("Action", "")
        return status, headers, rename_root(body, action)

    Response.serialized = renamed  # type: ignore[method-assign]
