#!/usr/bin/env python3
"""S3 multipart uploads through the installed AWS CLI and boto3 (unmodified) against `lathe serve`.

Run by ctest (tests/CMakeLists.txt) as:
  s3_multipart_test.py --lathe build/lathe
Exit 77 (skipped) when boto3 or the AWS CLI (`aws`) is missing.

Covers: `aws s3 cp` of a 40 MB file up (the CLI switches to multipart at 8 MB) and down, byte for
byte, with `s3api head-object`'s multipart ETag ("-5") and length, and `aws s3 ls`; boto3's
threaded upload_file / download_file (multipart, 4 threads, the default CRC32 flexible checksum)
and a ranged GET across a part boundary; the low-level calls: create / upload_part / list_parts /
list_multipart_uploads (prefix, paging by KeyMarker and UploadIdMarker) / complete, and the errors
S3 gives for parts out of order (InvalidPartOrder), a wrong ETag (InvalidPart), a small part that
is not the last (EntityTooSmall), an aborted upload (NoSuchUpload); upload_part_copy with a range;
DeleteBucket refused while an upload is open; and no part file left behind once uploads end.
"""
import argparse
import base64
import filecmp
import hashlib
import json
import os
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
# Exits 77 (skipped) without boto3.
from lathe_harness import NO_RETRY, AwsCli, Server, expect_error, require_aws_cli, forget_caller_aws_settings

import boto3
from boto3.s3.transfer import TransferConfig

KEY_ID, SECRET = "LATHETESTKEY000005", "lathe-test-secret-s3-multipart-0123456789a"
BUCKET = "bedrock-finetuning-multipart"
MB = 1 << 20
BIG = 40 * MB  # 5 parts of 8 MiB with the CLI's and TransferConfig's chunk size


def s3_client(url):
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET, region_name="us-east-1")
    return session.client("s3", endpoint_url=url, config=NO_RETRY)


def write_random(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def multipart_etag(part_bodies):
    """S3's multipart ETag: MD5 of the parts' binary MD5s, then -N."""
    digests = b"".join(hashlib.md5(b).digest() for b in part_bodies)
    return '"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(part_bodies))


def blob_files(data_dir):
    found = []
    for root, _, files in os.walk(os.path.join(data_dir, "s3", "blobs")):
        found += [os.path.join(root, f) for f in files]
    return found


def check_blobs_match_objects(s3, data_dir):
    """One blob per object (no versioning here), none for an upload that has ended."""
    open_uploads = s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert open_uploads == [], open_uploads
    objects = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    blobs = blob_files(data_dir)
    assert len(blobs) == len(objects), "blobs on disk %d, objects %d" % (len(blobs), len(objects))


def cli_steps(cli, tmp):
    cli.run("s3", "mb", "s3://" + BUCKET)
    big = os.path.join(tmp, "cli-big.bin")
    write_random(big, BIG)
    r = cli.run("s3", "cp", big, "s3://%s/training-data/big.bin" % BUCKET)
    assert "upload:" in r.stdout, r.stdout
    down = os.path.join(tmp, "cli-down.bin")
    cli.run("s3", "cp", "s3://%s/training-data/big.bin" % BUCKET, down)
    assert filecmp.cmp(big, down, shallow=False), "downloaded bytes differ"

    head = json.loads(cli.run("s3api", "head-object", "--bucket", BUCKET, "--key", "training-data/big.bin").stdout)
    assert head["ContentLength"] == BIG, head
    with open(big, "rb") as f:
        data = f.read()
    expected = multipart_etag([data[i:i + 8 * MB] for i in range(0, BIG, 8 * MB)])
    assert head["ETag"] == expected, (head["ETag"], expected)
    assert head["ETag"].endswith('-5"'), head["ETag"]

    r = cli.run("s3", "ls", "s3://%s/training-data/" % BUCKET)
    fields = r.stdout.split()
    assert fields[-1] == "big.bin" and int(fields[-2]) == BIG, r.stdout
    print("ok: aws s3 cp of 40 MB up and down (5 parts), head-object, ls")


def transfer_steps(s3, tmp):
    config = TransferConfig(multipart_threshold=8 * MB, multipart_chunksize=8 * MB, max_concurrency=4,
                            use_threads=True)
    src = os.path.join(tmp, "boto-big.bin")
    write_random(src, BIG)
    s3.upload_file(src, BUCKET, "boto/big.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="boto/big.bin")
    assert head["ContentLength"] == BIG and head["ETag"].endswith('-5"'), head
    # boto3 asked for CRC32 (its default flexible checksum) and sent each part's: the object's is
    # S3's composite one, the CRC32 of the parts' CRC32s, then -5, and says so.
    with open(src, "rb") as f:
        data = f.read()
    part_crcs = b"".join(zlib.crc32(data[i:i + 8 * MB]).to_bytes(4, "big") for i in range(0, BIG, 8 * MB))
    composite = base64.b64encode(zlib.crc32(part_crcs).to_bytes(4, "big")).decode() + "-5"
    head = s3.head_object(Bucket=BUCKET, Key="boto/big.bin", ChecksumMode="ENABLED")
    assert (head.get("ChecksumCRC32"), head.get("ChecksumType")) == (composite, "COMPOSITE"), head
    dst = os.path.join(tmp, "boto-down.bin")
    s3.download_file(BUCKET, "boto/big.bin", dst, Config=config)
    assert filecmp.cmp(src, dst, shallow=False), "download_file bytes differ"

    # A range across the boundary between parts 1 and 2.
    with open(src, "rb") as f:
        f.seek(8 * MB - 100)
        want = f.read(200)
    got = s3.get_object(Bucket=BUCKET, Key="boto/big.bin", Range="bytes=%d-%d" % (8 * MB - 100, 8 * MB + 99))
    assert got["ContentLength"] == 200 and got["ContentRange"] == "bytes %d-%d/%d" % (
        8 * MB - 100, 8 * MB + 99, BIG), got
    assert got["Body"].read() == want
    print("ok: boto3 upload_file / download_file (threaded, CRC32) and a range across parts")


def low_level_steps(s3):
    key = "low/level.bin"
    part1, part2, part3 = os.urandom(5 * MB), os.urandom(5 * MB), b"tail-of-the-object"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType="application/x-test",
                                        Metadata={"purpose": "test"})["UploadId"]
    etags = {}
    # Uploaded out of order: the part number decides where a part goes.
    for number, body in ((3, part3), (1, part1), (2, part2)):
        etags[number] = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]
        assert etags[number] == '"%s"' % hashlib.md5(body).hexdigest(), etags[number]

    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == [
        (1, len(part1), etags[1]), (2, len(part2), etags[2]), (3, len(part3), etags[3])], listed["Parts"]
    # Nothing asked for: an empty page, not truncated (as ListObjectsV2 answers max-keys=0).
    page = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload, MaxParts=0)
    assert not page["IsTruncated"] and page.get("Parts", []) == [], page
    page = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload, MaxParts=2)
    assert page["IsTruncated"] and [p["PartNumber"] for p in page["Parts"]] == [1, 2], page
    page = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload, PartNumberMarker=page["NextPartNumberMarker"])
    assert not page["IsTruncated"] and [p["PartNumber"] for p in page["Parts"]] == [3], page

    def complete(parts):
        return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                            MultipartUpload={"Parts": parts})

    ordered = [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]
    expect_error("InvalidPartOrder", 400, complete, [ordered[1], ordered[0], ordered[2]])
    expect_error("InvalidPartOrder", 400, complete, [ordered[0], ordered[0], ordered[1], ordered[2]])
    expect_error("MalformedXML", 400, complete, [])
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=BUCKET, Key=key + "-other",
                 UploadId=upload, MultipartUpload={"Parts": ordered})
    expect_error("InvalidPart", 400, complete,
                 [ordered[0], {"PartNumber": 2, "ETag": '"%s"' % ("0" * 32)}, ordered[2]])
    expect_error("InvalidPart", 400, complete, ordered + [{"PartNumber": 4, "ETag": etags[3]}])
    # Part 3 is short: fine as the last part, too small in the middle. Part 4 is then left out of
    # the completion, and S3 drops what a completion does not name.
    etags[4] = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=4, Body=b"four")["ETag"]
    expect_error("EntityTooSmall", 400, complete, [ordered[0], ordered[2], {"PartNumber": 4, "ETag": etags[4]}])
    # The failed completions left the upload as it was.
    assert len(s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)["Parts"]) == 4
    done = complete(ordered)
    assert done["ETag"] == multipart_etag([part1, part2, part3]), done
    obj = s3.get_object(Bucket=BUCKET, Key=key)
    assert obj["Body"].read() == part1 + part2 + part3
    assert obj["ContentType"] == "application/x-test" and obj["Metadata"] == {"purpose": "test"}, obj
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=BUCKET, Key=key, UploadId=upload)
    expect_error("NoSuchUpload", 404, complete, ordered)  # completed: gone
    print("ok: create / upload_part / list_parts / complete with InvalidPartOrder, InvalidPart, EntityTooSmall")

    # Abort: then the upload is gone for every call.
    gone = s3.create_multipart_upload(Bucket=BUCKET, Key="low/aborted")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="low/aborted", UploadId=gone, PartNumber=1, Body=b"x" * 1000)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="low/aborted", UploadId=gone)
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=BUCKET, Key="low/aborted", UploadId=gone,
                 PartNumber=2, Body=b"y")
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=BUCKET, Key="low/aborted",
                 UploadId=gone, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=BUCKET, Key="low/aborted", UploadId=gone)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="low/aborted")
    # Bad part numbers.
    other = s3.create_multipart_upload(Bucket=BUCKET, Key="low/bad")["UploadId"]
    for bad in (0, 10001):
        expect_error("InvalidArgument", 400, s3.upload_part, Bucket=BUCKET, Key="low/bad", UploadId=other,
                     PartNumber=bad, Body=b"z")
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=BUCKET, Key="low/other-key", UploadId=other,
                 PartNumber=1, Body=b"z")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="low/bad", UploadId=other)
    print("ok: abort, then NoSuchUpload; bad part numbers refused")


def list_uploads_steps(s3):
    # Two uploads of one key and one each of three others; listed by key, then upload id.
    made = []
    for key in ("list/a", "list/a", "list/b", "list/c/deep", "elsewhere"):
        made.append((key, s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]))
    listed = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="list/")
    got = [(u["Key"], u["UploadId"]) for u in listed["Uploads"]]
    assert sorted(got) == sorted(m for m in made if m[0].startswith("list/")), got
    assert [k for k, _ in got] == sorted(k for k, _ in got), got
    assert not listed["IsTruncated"], listed

    delimited = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="list/", Delimiter="/")
    assert [p["Prefix"] for p in delimited.get("CommonPrefixes", [])] == ["list/c/"], delimited
    assert sorted(u["Key"] for u in delimited["Uploads"]) == ["list/a", "list/a", "list/b"], delimited

    page = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="list/", MaxUploads=0)
    assert not page["IsTruncated"] and page.get("Uploads", []) == [], page
    # Paging one at a time with KeyMarker / UploadIdMarker visits each upload once.
    seen, kwargs = [], {}
    for _ in range(10):
        page = s3.list_multipart_uploads(Bucket=BUCKET, Prefix="list/", MaxUploads=1, **kwargs)
        seen += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
        if not page["IsTruncated"]:
            break
        kwargs = {"KeyMarker": page["NextKeyMarker"], "UploadIdMarker": page["NextUploadIdMarker"]}
    assert seen == got, (seen, got)

    # DeleteBucket refuses while an upload is open, in a bucket with no object at all.
    s3.create_bucket(Bucket=BUCKET + "-open")
    lone = s3.create_multipart_upload(Bucket=BUCKET + "-open", Key="k")["UploadId"]
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=BUCKET + "-open")
    s3.abort_multipart_upload(Bucket=BUCKET + "-open", Key="k", UploadId=lone)
    s3.delete_bucket(Bucket=BUCKET + "-open")

    for key, upload in made:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload)
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    print("ok: list_multipart_uploads by prefix, delimiter and pages; BucketNotEmpty while an upload is open")


def copy_part_steps(s3):
    source = os.urandom(6 * MB)
    s3.put_object(Bucket=BUCKET, Key="copy/source.bin", Body=source)
    key = "copy/assembled.bin"
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    first = s3.upload_part_copy(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": BUCKET, "Key": "copy/source.bin"},
                                CopySourceRange="bytes=0-%d" % (5 * MB))  # 5 MiB + 1
    assert first["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(source[:5 * MB + 1]).hexdigest(), first
    second = s3.upload_part_copy(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=2,
                                 CopySource={"Bucket": BUCKET, "Key": "copy/source.bin"},
                                 CopySourceRange="bytes=100-199")
    expect_error("InvalidRange", 416, s3.upload_part_copy, Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=3,
                 CopySource={"Bucket": BUCKET, "Key": "copy/source.bin"},
                 CopySourceRange="bytes=%d-%d" % (6 * MB, 6 * MB + 10))
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert got == source[:5 * MB + 1] + source[100:200]
    print("ok: upload_part_copy with CopySourceRange")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lathe", required=True)
    args = p.parse_args()
    require_aws_cli()
    forget_caller_aws_settings("AWS_ENDPOINT_URL")
    with tempfile.TemporaryDirectory() as tmp:
        data, home = os.path.join(tmp, "data"), os.path.join(tmp, "home")
        with Server(args.lathe, data, keys=(KEY_ID, SECRET)).start() as server:
            cli_steps(AwsCli(home, server.url, (KEY_ID, SECRET), "us-east-1"), tmp)
            s3 = s3_client(server.url)
            transfer_steps(s3, tmp)
            low_level_steps(s3)
            list_uploads_steps(s3)
            copy_part_steps(s3)
            check_blobs_match_objects(s3, data)
            print("ok: blob files on disk equal the objects: no part left behind")
    print("OK")


if __name__ == "__main__":
    main()
