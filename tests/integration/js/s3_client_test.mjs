// The wire seen by a second, independent S3 client: the AWS SDK for JavaScript v3 (@aws-sdk/client-s3,
// pinned in package-lock.json), against an S3 endpoint. botocore and the AWS CLI share one codebase,
// so a bug they agree with lathe on is invisible to them; this SDK signs, encodes keys, streams
// bodies, adds checksums and parses XML in its own way.
//
// Run by s3_sdk_js_test.py, which starts `lathe serve` and sets:
//   S3_ENDPOINT (http://HOST:PORT), S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION
// Each step prints one line; the first failure prints "FAIL <step>: ..." and exits 1.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import {
  S3Client, CreateBucketCommand, HeadBucketCommand, ListBucketsCommand, DeleteBucketCommand,
  PutObjectCommand, HeadObjectCommand, GetObjectCommand, ListObjectsV2Command, CopyObjectCommand,
  DeleteObjectCommand, DeleteObjectsCommand, PutObjectTaggingCommand, GetObjectTaggingCommand,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { step, expectError } from "./steps.mjs";

for (const name of ["S3_ENDPOINT", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"]) {
  if (!process.env[name]) {
    console.error(`s3_client_test: ${name} is not set`);
    process.exit(2);
  }
}

const s3 = new S3Client({
  endpoint: process.env.S3_ENDPOINT,
  forcePathStyle: true, // http://HOST:PORT/bucket/key: no wildcard DNS needed on a test machine
  region: process.env.S3_REGION,
  credentials: { accessKeyId: process.env.S3_ACCESS_KEY_ID, secretAccessKey: process.env.S3_SECRET_ACCESS_KEY },
  maxAttempts: 1, // every call once: a retry would hide the first answer, which is the one under test
});

const BUCKET = "js-sdk-wire-check";
const MISSING_BUCKET = "js-sdk-never-created";

// ---------------------------------------------------------------- helpers

const md5Hex = (bytes) => createHash("md5").update(bytes).digest("hex");
const quotedMd5 = (bytes) => `"${md5Hex(bytes)}"`;

// CRC-32 (IEEE 802.3, the polynomial S3's ChecksumCRC32 uses), written out here so that the
// expected value does not come from the SDK under test. S3 sends it base64 of the big-endian bytes.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32Base64(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString("base64");
}

async function getBytes(key, extra = {}) {
  const r = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...extra }));
  return { r, body: Buffer.from(await r.Body.transformToByteArray()) };
}

/** S3 lists keys in UTF-8 byte order. */
const byUtf8 = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// Bodies: a short text, an odd key, the two multipart parts (5 MiB, the smallest part S3 allows but
// the last, and 1 KiB), each with bytes that would show an offset or a truncation.
const TEXT = "hello, lathe s3 wire";
const TEXT_BYTES = Buffer.from(TEXT);
const META = { purpose: "wire-check", "two-words": "a b" };
const CONTENT_TYPE = "text/plain; charset=utf-8";
const ODD_KEY = "odd/a b+c%d ü=?&#.txt"; // space, plus, percent, non-ASCII, query and fragment signs
const PART1 = Buffer.alloc(5 << 20, 0).map((_, i) => (i * 31 + (i >> 12)) % 251);
const PART2 = Buffer.alloc(1024, 0).map((_, i) => (i * 7 + 3) % 253);
const keysPut = new Set();

// ---------------------------------------------------------------- buckets

await step("CreateBucket", async () => {
  const r = await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  assert.equal(r.$metadata.httpStatusCode, 200);
  assert.equal(r.Location, `/${BUCKET}`);
});

await step("HeadBucket", async () => {
  const r = await s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
  assert.equal(r.$metadata.httpStatusCode, 200);
  assert.equal(r.BucketRegion, process.env.S3_REGION);
});

await step("HeadBucket missing -> NotFound 404", () =>
  expectError("NotFound", 404, () => s3.send(new HeadBucketCommand({ Bucket: MISSING_BUCKET }))));

await step("ListBuckets", async () => {
  const r = await s3.send(new ListBucketsCommand({}));
  const mine = r.Buckets.filter((b) => b.Name === BUCKET);
  assert.equal(mine.length, 1, JSON.stringify(r.Buckets));
  assert.ok(mine[0].CreationDate instanceof Date && mine[0].CreationDate.getFullYear() >= 2024);
  assert.ok(r.Owner?.ID, "Owner.ID");
});

// ---------------------------------------------------------------- objects

await step("PutObject (string body, Metadata, ContentType)", async () => {
  const r = await s3.send(new PutObjectCommand({
    Bucket: BUCKET, Key: "dir/hello.txt", Body: TEXT, ContentType: CONTENT_TYPE, Metadata: META,
  }));
  assert.equal(r.$metadata.httpStatusCode, 200);
  assert.equal(r.ETag, quotedMd5(TEXT_BYTES));
  keysPut.add("dir/hello.txt");
});

await step("HeadObject", async () => {
  const r = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "dir/hello.txt" }));
  assert.equal(r.ContentLength, TEXT_BYTES.length);
  assert.equal(r.ETag, quotedMd5(TEXT_BYTES));
  assert.equal(r.ContentType, CONTENT_TYPE);
  assert.deepEqual(r.Metadata, META);
  assert.ok(r.LastModified instanceof Date, "LastModified");
});

await step("GetObject", async () => {
  const { r, body } = await getBytes("dir/hello.txt");
  assert.equal(r.$metadata.httpStatusCode, 200);
  assert.deepEqual(body, TEXT_BYTES);
  assert.equal(r.ContentLength, TEXT_BYTES.length);
  assert.equal(r.ETag, quotedMd5(TEXT_BYTES));
  assert.equal(r.ContentType, CONTENT_TYPE);
  assert.deepEqual(r.Metadata, META);
});

await step("GetObject Range bytes=2-5 -> 206", async () => {
  const { r, body } = await getBytes("dir/hello.txt", { Range: "bytes=2-5" });
  assert.equal(r.$metadata.httpStatusCode, 206);
  assert.equal(r.ContentRange, `bytes 2-5/${TEXT_BYTES.length}`);
  assert.equal(r.ContentLength, 4);
  assert.deepEqual(body, TEXT_BYTES.subarray(2, 6));
});

await step("PutObject/GetObject odd key", async () => {
  const body = Buffer.from("odd key body");
  const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: ODD_KEY, Body: body }));
  assert.equal(put.ETag, quotedMd5(body));
  keysPut.add(ODD_KEY);
  const got = await getBytes(ODD_KEY);
  assert.deepEqual(got.body, body);
});

await step("PutObject more keys", async () => {
  for (const key of ["dir/a.txt", "dir/sub/b.txt", "dir/sub/c.txt", "top.txt"]) {
    const r = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
    assert.equal(r.ETag, quotedMd5(Buffer.from(key)), key);
    keysPut.add(key);
  }
});

await step("ListObjectsV2 Prefix + Delimiter -> CommonPrefixes", async () => {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "dir/", Delimiter: "/" }));
  assert.deepEqual((r.Contents ?? []).map((o) => o.Key), ["dir/a.txt", "dir/hello.txt"]);
  assert.deepEqual((r.CommonPrefixes ?? []).map((p) => p.Prefix), ["dir/sub/"]);
  assert.equal(r.KeyCount, 3);
  assert.equal(r.Prefix, "dir/");
  assert.equal(r.Delimiter, "/");
  assert.equal(r.IsTruncated, false);
  const hello = r.Contents.find((o) => o.Key === "dir/hello.txt");
  assert.equal(hello.Size, TEXT_BYTES.length);
  assert.equal(hello.ETag, quotedMd5(TEXT_BYTES));
  assert.ok(hello.LastModified instanceof Date, "LastModified");
});

await step("ListObjectsV2 MaxKeys=2 + ContinuationToken paging", async () => {
  const seen = [];
  let token, pages = 0;
  for (;;) {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 2, ContinuationToken: token }));
    pages++;
    assert.equal(r.MaxKeys, 2);
    assert.ok((r.Contents ?? []).length <= 2, `page ${pages} has ${r.Contents?.length} keys`);
    assert.equal(r.KeyCount, (r.Contents ?? []).length);
    if (token) assert.equal(r.ContinuationToken, token);
    seen.push(...(r.Contents ?? []).map((o) => o.Key));
    if (!r.IsTruncated) {
      assert.equal(r.NextContinuationToken, undefined);
      break;
    }
    assert.ok(r.NextContinuationToken, `page ${pages}: IsTruncated without NextContinuationToken`);
    token = r.NextContinuationToken;
    assert.ok(pages < 20, "paging does not end");
  }
  assert.deepEqual(seen, [...keysPut].sort(byUtf8));
  assert.equal(pages, Math.ceil(keysPut.size / 2));
  return `${seen.length} keys in ${pages} pages`;
});

await step("CopyObject", async () => {
  const r = await s3.send(new CopyObjectCommand({
    Bucket: BUCKET, Key: "copy/hello.txt", CopySource: `${BUCKET}/dir/hello.txt`,
  }));
  assert.equal(r.CopyObjectResult?.ETag, quotedMd5(TEXT_BYTES));
  keysPut.add("copy/hello.txt");
  const { r: got, body } = await getBytes("copy/hello.txt");
  assert.deepEqual(body, TEXT_BYTES);
  // The default MetadataDirective is COPY: the source's metadata and Content-Type come along.
  assert.deepEqual(got.Metadata, META);
  assert.equal(got.ContentType, CONTENT_TYPE);
});

await step("PutObjectTagging / GetObjectTagging", async () => {
  const tags = [{ Key: "stage", Value: "raw" }, { Key: "owner", Value: "js sdk" }];
  const put = await s3.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: "dir/hello.txt", Tagging: { TagSet: tags } }));
  assert.equal(put.$metadata.httpStatusCode, 200);
  const got = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: "dir/hello.txt" }));
  const sorted = (set) => [...set].sort((a, b) => a.Key.localeCompare(b.Key));
  assert.deepEqual(sorted(got.TagSet), sorted(tags));
});

await step("Multipart upload (5 MiB + 1 KiB) -> ETag ...-2", async () => {
  const key = "big/multipart.bin";
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  assert.ok(created.UploadId, "UploadId");
  assert.equal(created.Key, key);
  const parts = [];
  for (const [i, bytes] of [PART1, PART2].entries()) {
    const r = await s3.send(new UploadPartCommand({
      Bucket: BUCKET, Key: key, UploadId: created.UploadId, PartNumber: i + 1, Body: bytes,
    }));
    assert.equal(r.ETag, quotedMd5(bytes), `part ${i + 1}`);
    parts.push({ PartNumber: i + 1, ETag: r.ETag });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({
    Bucket: BUCKET, Key: key, UploadId: created.UploadId, MultipartUpload: { Parts: parts },
  }));
  // MD5 of the parts' binary MD5s, then "-<number of parts>".
  const partMd5s = Buffer.concat([PART1, PART2].map((b) => createHash("md5").update(b).digest()));
  const expected = `"${md5Hex(partMd5s)}-2"`;
  assert.ok(done.ETag.endsWith('-2"'), done.ETag);
  assert.equal(done.ETag, expected);
  keysPut.add(key);
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.equal(head.ContentLength, PART1.length + PART2.length);
  assert.equal(head.ETag, expected);
  const { body } = await getBytes(key);
  assert.equal(md5Hex(body), md5Hex(Buffer.concat([PART1, PART2])), "the object's bytes are the parts'");
});

await step("PutObject ChecksumAlgorithm CRC32 -> ChecksumCRC32", async () => {
  const body = Buffer.from("checksummed body: ".repeat(100));
  const r = await s3.send(new PutObjectCommand({
    Bucket: BUCKET, Key: "sum/crc32.txt", Body: body, ChecksumAlgorithm: "CRC32",
  }));
  keysPut.add("sum/crc32.txt");
  assert.equal(r.ChecksumCRC32, crc32Base64(body));
  assert.equal(r.ETag, quotedMd5(body));
});

await step("Presigned GET URL with fetch()", async () => {
  for (const key of ["dir/hello.txt", ODD_KEY]) {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 300 });
    assert.ok(url.includes("X-Amz-Signature="), url);
    const resp = await fetch(url);
    const body = Buffer.from(await resp.arrayBuffer());
    assert.equal(resp.status, 200, `${key}: ${body.toString()}`);
    assert.deepEqual(body, key === ODD_KEY ? Buffer.from("odd key body") : TEXT_BYTES, key);
  }
});

await step("DeleteObject", async () => {
  const r = await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: "top.txt" }));
  assert.equal(r.$metadata.httpStatusCode, 204);
  keysPut.delete("top.txt");
  await expectError("NotFound", 404, () => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "top.txt" })));
});

await step("DeleteObjects", async () => {
  const keys = ["dir/a.txt", "dir/sub/b.txt", "never/existed.txt"];
  const r = await s3.send(new DeleteObjectsCommand({
    Bucket: BUCKET, Delete: { Objects: keys.map((Key) => ({ Key })) },
  }));
  // S3 reports a key that was not there as deleted too.
  assert.deepEqual((r.Deleted ?? []).map((d) => d.Key).sort(), [...keys].sort());
  assert.deepEqual(r.Errors ?? [], []);
  for (const k of keys) keysPut.delete(k);
  const left = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  assert.deepEqual((left.Contents ?? []).map((o) => o.Key), [...keysPut].sort(byUtf8));
});

// ---------------------------------------------------------------- errors

await step("GetObject missing key -> NoSuchKey 404", () =>
  expectError("NoSuchKey", 404, () => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "no/such/key" }))));

await step("missing bucket -> NoSuchBucket 404", async () => {
  await expectError("NoSuchBucket", 404, () =>
    s3.send(new GetObjectCommand({ Bucket: MISSING_BUCKET, Key: "dir/hello.txt" })));
  await expectError("NoSuchBucket", 404, () => s3.send(new ListObjectsV2Command({ Bucket: MISSING_BUCKET })));
  await expectError("NoSuchBucket", 404, () =>
    s3.send(new PutObjectCommand({ Bucket: MISSING_BUCKET, Key: "k", Body: "x" })));
});

await step("DeleteBucket with objects -> BucketNotEmpty 409", () =>
  expectError("BucketNotEmpty", 409, () => s3.send(new DeleteBucketCommand({ Bucket: BUCKET }))));

// ---------------------------------------------------------------- cleanup

await step("cleanup: DeleteObjects, DeleteBucket", async () => {
  const left = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const keys = (left.Contents ?? []).map((o) => ({ Key: o.Key }));
  if (keys.length) {
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: keys, Quiet: true } }));
    assert.deepEqual(r.Errors ?? [], []);
  }
  const del = await s3.send(new DeleteBucketCommand({ Bucket: BUCKET }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  const r = await s3.send(new ListBucketsCommand({}));
  assert.ok(!(r.Buckets ?? []).some((b) => b.Name === BUCKET), "the bucket is still listed");
  await expectError("NotFound", 404, () => s3.send(new HeadBucketCommand({ Bucket: BUCKET })));
});

console.log("all steps passed");
